#!/usr/bin/env python3
"""Generate test/fixtures/tiny-model: a tiny, random-weight, BERT-like
feature-extraction model that @huggingface/transformers (v3) loads offline.

The output is committed; CI never runs this script. It is deterministic
(fixed seed, sorted JSON keys), so running it again reproduces the same bytes
and the same revision hash that test/encoder-local.test.ts expects.

    /usr/bin/python3 scripts/make-tiny-model.py [out_dir]

Needs only numpy and onnx (Debian: apt-get install python3-onnx python3-numpy).

What it writes:

- tokenizer.json / tokenizer_config.json: a lower-casing WordPiece tokenizer
  (BertNormalizer, BertPreTokenizer, [CLS] ... [SEP] template). The
  vocabulary is [PAD] [UNK] [CLS] [SEP] [MASK], ASCII punctuation, digits and
  letters, then the most frequent English words and word pieces, taken in
  merge-rank order from the GPT-2 byte-pair ranks that ship with js-tiktoken
  (a project dependency, MIT): a rank-ordered token " word" becomes the word
  `word`, a token "ing" without a leading space becomes the piece `##ing`.
- config.json: model_type bert, hidden_size 32, max_position_embeddings 128.
- onnx/model.onnx (opset 13): inputs input_ids, attention_mask,
  token_type_ids (int64 [batch, seq]); output last_hidden_state
  (float32 [batch, seq, 32]). The graph is one mixing layer, not a
  transformer:
      e   = word_emb[input_ids] + pos_emb[0..seq) + type_emb[token_type_ids]
      ctx = masked mean of e over the sequence (attention_mask)
      out = tanh(e @ W_tok + ctx @ W_ctx + b)
  so every token's vector depends on the token and on the whole text (CLS
  pooling is meaningful too). Embedding tables are stored as float16 and cast
  to float32 in the graph to keep the file small.
"""

import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240611
HIDDEN = 32
MAX_LEN = 128
N_WORDS = 3000
N_PIECES = 1000

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANKS = os.path.join(ROOT, "node_modules", "js-tiktoken", "dist", "ranks", "gpt2.js")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def ranked_tokens():
    """GPT-2 BPE tokens (bytes) in rank order, from js-tiktoken's ranks file."""
    with open(RANKS, encoding="utf-8") as f:
        src = f.read()
    src = src[src.index("{"): src.rindex("}") + 1]
    ranks = json.loads(src)["bpe_ranks"]
    import base64

    out = []
    for line in ranks.split("\n"):
        parts = line.split(" ")
        if len(parts) < 2:
            continue
        offset = int(parts[1])
        for i, tok in enumerate(parts[2:]):
            out.append((offset + i, base64.b64decode(tok)))
    out.sort()
    return [tok for _, tok in out]


def build_vocab():
    punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    digits = list("0123456789")
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocab = SPECIALS + punct + digits + letters
    seen = set(vocab)
    word = re.compile(rb"^ ([a-z]{2,})$")
    piece = re.compile(rb"^([a-z]{2,})$")
    words, pieces = [], []
    for tok in ranked_tokens():
        m = word.match(tok)
        if m and len(words) < N_WORDS:
            w = m.group(1).decode()
            if w not in seen:
                seen.add(w)
                words.append(w)
            continue
        m = piece.match(tok)
        if m and len(pieces) < N_PIECES:
            p = "##" + m.group(1).decode()
            if p not in seen:
                seen.add(p)
                pieces.append(p)
        if len(words) >= N_WORDS and len(pieces) >= N_PIECES:
            break
    cont = ["##" + c for c in digits + letters]
    return vocab + words + cont + pieces


def tokenizer_json(vocab):
    ids = {tok: i for i, tok in enumerate(vocab)}
    added = [
        {"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in SPECIALS
    ]
    cls, sep = {"id": "[CLS]", "ids": [ids["[CLS]"]], "tokens": ["[CLS]"]}, {"id": "[SEP]", "ids": [ids["[SEP]"]], "tokens": ["[SEP]"]}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": cls, "[SEP]": sep},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "BertTokenizer",
    "do_lower_case": True,
    "model_max_length": MAX_LEN,
    "clean_up_tokenization_spaces": True,
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "mask_token": "[MASK]",
}


def config_json(vocab_size):
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": HIDDEN,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "intermediate_size": HIDDEN,
        "hidden_act": "tanh",
        "max_position_embeddings": MAX_LEN,
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
        "pad_token_id": 0,
        "layer_norm_eps": 1e-12,
        "_comment": "Random-weight test fixture made by scripts/make-tiny-model.py; not a trained model.",
    }


def build_model(vocab_size):
    rng = np.random.default_rng(SEED)
    word = rng.normal(0.0, 1.0, (vocab_size, HIDDEN)).astype(np.float16)
    pos = rng.normal(0.0, 0.1, (MAX_LEN, HIDDEN)).astype(np.float16)
    typ = rng.normal(0.0, 0.1, (2, HIDDEN)).astype(np.float16)
    w_tok = rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), (HIDDEN, HIDDEN)).astype(np.float32)
    w_ctx = rng.normal(0.0, 0.5 / np.sqrt(HIDDEN), (HIDDEN, HIDDEN)).astype(np.float32)
    bias = rng.normal(0.0, 0.05, (HIDDEN,)).astype(np.float32)

    inits = [
        numpy_helper.from_array(word, "word_embeddings"),
        numpy_helper.from_array(pos, "position_embeddings"),
        numpy_helper.from_array(typ, "token_type_embeddings"),
        numpy_helper.from_array(w_tok, "w_tok"),
        numpy_helper.from_array(w_ctx, "w_ctx"),
        numpy_helper.from_array(bias, "bias"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero_i"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one_i"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_seq"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one_f"),
    ]
    F = TensorProto.FLOAT
    nodes = [
        helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
        helper.make_node("Gather", ["ids_shape", "one_i"], ["seq_len"], axis=0),
        helper.make_node("Range", ["zero_i", "seq_len", "one_i"], ["positions"]),
        helper.make_node("Gather", ["word_embeddings", "input_ids"], ["we16"]),
        helper.make_node("Cast", ["we16"], ["we"], to=F),
        helper.make_node("Gather", ["position_embeddings", "positions"], ["pe16"]),
        helper.make_node("Cast", ["pe16"], ["pe"], to=F),
        helper.make_node("Gather", ["token_type_embeddings", "token_type_ids"], ["te16"]),
        helper.make_node("Cast", ["te16"], ["te"], to=F),
        helper.make_node("Add", ["we", "pe"], ["e0"]),
        helper.make_node("Add", ["e0", "te"], ["e"]),
        helper.make_node("Unsqueeze", ["attention_mask", "axis_last"], ["mask_i"]),
        helper.make_node("Cast", ["mask_i"], ["mask"], to=F),
        helper.make_node("Mul", ["e", "mask"], ["e_masked"]),
        helper.make_node("ReduceSum", ["e_masked", "axis_seq"], ["e_sum"], keepdims=1),
        helper.make_node("ReduceSum", ["mask", "axis_seq"], ["count0"], keepdims=1),
        helper.make_node("Max", ["count0", "one_f"], ["count"]),
        helper.make_node("Div", ["e_sum", "count"], ["ctx"]),
        helper.make_node("MatMul", ["e", "w_tok"], ["h_tok"]),
        helper.make_node("MatMul", ["ctx", "w_ctx"], ["h_ctx"]),
        helper.make_node("Add", ["h_tok", "h_ctx"], ["h0"]),
        helper.make_node("Add", ["h0", "bias"], ["h"]),
        helper.make_node("Tanh", ["h"], ["last_hidden_state"]),
    ]
    I64 = TensorProto.INT64
    dims = ["batch_size", "sequence_length"]
    graph = helper.make_graph(
        nodes,
        "tiny_bert_like",
        [
            helper.make_tensor_value_info("input_ids", I64, dims),
            helper.make_tensor_value_info("attention_mask", I64, dims),
            helper.make_tensor_value_info("token_type_ids", I64, dims),
        ],
        [helper.make_tensor_value_info("last_hidden_state", F, dims + [HIDDEN])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="embctl/scripts/make-tiny-model.py",
        doc_string="Random-weight BERT-like test fixture; not a trained model.",
    )
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    return model


def write_json(path, obj, compact=False):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(obj, f, sort_keys=False, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, sort_keys=True, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "tiny-model")
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    vocab = build_vocab()
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json(vocab), compact=True)
    write_json(os.path.join(out, "tokenizer_config.json"), TOKENIZER_CONFIG)
    write_json(os.path.join(out, "config.json"), config_json(len(vocab)))
    model = build_model(len(vocab))
    with open(os.path.join(out, "onnx", "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {out}: vocab {len(vocab)}, hidden {HIDDEN}, max length {MAX_LEN}")


if __name__ == "__main__":
    main()
