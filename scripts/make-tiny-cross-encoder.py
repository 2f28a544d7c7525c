#!/usr/bin/env python3
"""Generate test/fixtures/tiny-cross-encoder: a tiny BERT-style
sequence-classification model (a reranker, one regression logit per
(query, passage) pair) that @huggingface/transformers (v3) loads offline with
AutoModelForSequenceClassification.

The output is committed; CI never runs this script. It is deterministic
(no randomness at all, sorted JSON keys), so running it again reproduces the
same bytes, which test/cross-encoder-fixture.test.ts checks by sha256.

    /usr/bin/python3 scripts/make-tiny-cross-encoder.py [out_dir]

Needs numpy and onnx (Debian: apt-get install python3-onnx python3-numpy;
there is no PyPI here, and python3-onnx is not installed by default). It
reuses the vocabulary and tokenizer builders of scripts/make-tiny-model.py,
so both fixtures share one tokenizer (byte-identical tokenizer.json).

What it writes:

- tokenizer.json: the tiny embedding model's WordPiece tokenizer; a pair is
  encoded as [CLS] query [SEP] passage [SEP] with token_type_ids 0 for
  "[CLS] query [SEP]" and 1 for "passage [SEP]".
- tokenizer_config.json: the same, but model_max_length 512 (passages are
  long; the graph has no position table, so any length works).
- config.json: BertForSequenceClassification, num_labels 1 (id2label
  {0: LABEL_0}), problem_type regression, max_position_embeddings 512.
- onnx/model.onnx (opset 13): inputs input_ids, attention_mask,
  token_type_ids (int64 [batch, seq]); output logits (float32 [batch, 1]),
  the names transformers.js feeds and reads for BERT.

The weights are not random and not trained: they are built by hand so the
score is a lexical-overlap relevance score, BM25-like, that agrees with
common sense offline. The graph:

    w[t]        token weight: an IDF estimate from the token's frequency
                rank (Zipf: a token's document frequency falls with its
                rank, so ln(rank) is an IDF up to a constant). For a word or
                word piece taken from the GPT-2 merge ranks at rank r:
                    w = ln(1 + (r - 256) / 100)
                ("the" 0.06, "their" 1.3, "manage" 4.2); a single letter or
                digit 0.5, a single-character piece "##x" 0.25; special
                tokens and punctuation 0.
    seg         segment embeddings, a 2x2 identity table looked up by
                token_type_ids: column 0 marks the query segment, column 1
                the passage segment.
    q_i         = w[id_i] * mask_i * seg_i[0]   query token weights ([CLS]
                and [SEP] weigh 0, so only the query's words count)
    p_j         = mask_j * seg_j[1]             passage token indicator
    tf_i        = sum_j [id_i == id_j] * p_j    occurrences of query token i
                in the passage (an Equal of the ids against themselves,
                [batch, seq, seq], times p)
    len         = sum_j p_j                     passage length in tokens
    sat_i       = tf_i * (k1 + 1) / (tf_i + k1 * (1 - b + b * len / avglen))
                BM25 saturation, k1 = 1.2, b = 0.75, avglen = 128 tokens
    s           = sum_i q_i * sat_i / ((k1 + 1) * max(sum_i q_i, 1e-6))
                in [0, 1): the IDF-weighted share of the query found in the
                passage, saturated by term frequency and passage length
    logits      = 12 * s - 6                    [batch, 1]

So: more query words in the passage gives a higher logit (rare words count
more than common ones), a passage with none of them gets -6, and the score
is asymmetric: swapping query and passage changes it (coverage of the
first segment by the second). Matching is on token ids, so it is exact, not
semantic: synonyms do not match, and out-of-vocabulary words match through
their word pieces.
"""

import importlib.util
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _load_tiny_model_module():
    spec = importlib.util.spec_from_file_location("make_tiny_model", os.path.join(HERE, "make-tiny-model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tiny = _load_tiny_model_module()

MAX_LEN = 512
BYTE_RANKS = 256  # GPT-2 ranks 0..255 are the single bytes
RANK_SCALE = 100.0
SINGLE_CHAR_WEIGHT = 0.5
SINGLE_PIECE_WEIGHT = 0.25
K1 = 1.2
B = 0.75
AVG_LEN = 128.0
SCALE = 12.0
BIAS = -6.0


def gpt2_ranks():
    """First merge rank of each GPT-2 token (bytes)."""
    ranks = {}
    for i, tok in enumerate(tiny.ranked_tokens()):
        ranks.setdefault(tok, i)
    return ranks


def token_weights(vocab):
    """The IDF estimate of every vocabulary entry (see the module comment)."""
    ranks = gpt2_ranks()
    out = np.zeros(len(vocab), dtype=np.float32)
    for i, tok in enumerate(vocab):
        if tok in tiny.SPECIALS:
            continue
        piece = tok.startswith("##")
        text = tok[2:] if piece else tok
        if len(text) == 1:
            if text.isalnum():
                out[i] = SINGLE_PIECE_WEIGHT if piece else SINGLE_CHAR_WEIGHT
            continue  # punctuation
        rank = ranks[text.encode() if piece else b" " + text.encode()]
        out[i] = np.log1p((rank - BYTE_RANKS) / RANK_SCALE)
    return out


def tokenizer_config():
    config = dict(tiny.TOKENIZER_CONFIG)
    config["model_max_length"] = MAX_LEN
    return config


def config_json(vocab_size):
    return {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "num_labels": 1,
        "id2label": {"0": "LABEL_0"},
        "label2id": {"LABEL_0": 0},
        "problem_type": "regression",
        "hidden_size": 2,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "intermediate_size": 2,
        "hidden_act": "relu",
        "max_position_embeddings": MAX_LEN,
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
        "pad_token_id": 0,
        "layer_norm_eps": 1e-12,
        "_comment": (
            "Hand-built lexical-overlap reranker made by scripts/make-tiny-cross-encoder.py; "
            "a test fixture, not a trained model."
        ),
    }


def build_model(weights):
    f32 = lambda x: np.array(x, dtype=np.float32)  # noqa: E731
    inits = [
        numpy_helper.from_array(weights, "token_weights"),
        numpy_helper.from_array(np.eye(2, dtype=np.float32), "token_type_embeddings"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "seg_query"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "seg_passage"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis_2"),
        numpy_helper.from_array(f32(K1 + 1.0), "k1_plus_1"),
        numpy_helper.from_array(f32(K1 * (1.0 - B)), "len_norm_base"),
        numpy_helper.from_array(f32(K1 * B / AVG_LEN), "len_norm_slope"),
        numpy_helper.from_array(f32(1e-6), "eps"),
        numpy_helper.from_array(f32(SCALE), "scale"),
        numpy_helper.from_array(f32(BIAS), "bias"),
    ]
    F = TensorProto.FLOAT
    nodes = [
        # Per-token IDF weight and segment indicators.
        helper.make_node("Gather", ["token_weights", "input_ids"], ["w"]),
        helper.make_node("Gather", ["token_type_embeddings", "token_type_ids"], ["seg"]),
        helper.make_node("Gather", ["seg", "seg_query"], ["is_query"], axis=2),
        helper.make_node("Gather", ["seg", "seg_passage"], ["is_passage"], axis=2),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=F),
        helper.make_node("Mul", ["is_query", "mask"], ["q_mask"]),
        helper.make_node("Mul", ["q_mask", "w"], ["q"]),
        helper.make_node("Mul", ["is_passage", "mask"], ["p"]),
        # tf_i = sum_j [id_i == id_j] p_j
        helper.make_node("Unsqueeze", ["input_ids", "axis_2"], ["ids_rows"]),
        helper.make_node("Unsqueeze", ["input_ids", "axis_1"], ["ids_cols"]),
        helper.make_node("Equal", ["ids_rows", "ids_cols"], ["same_b"]),
        helper.make_node("Cast", ["same_b"], ["same"], to=F),
        helper.make_node("Unsqueeze", ["p", "axis_2"], ["p_col"]),
        helper.make_node("MatMul", ["same", "p_col"], ["tf_col"]),
        helper.make_node("Squeeze", ["tf_col", "axis_2"], ["tf"]),
        # BM25 saturation with passage-length normalisation.
        helper.make_node("ReduceSum", ["p", "axis_1"], ["p_len"], keepdims=1),
        helper.make_node("Mul", ["p_len", "len_norm_slope"], ["len_term"]),
        helper.make_node("Add", ["len_term", "len_norm_base"], ["len_norm"]),
        helper.make_node("Add", ["tf", "len_norm"], ["sat_den"]),
        helper.make_node("Mul", ["tf", "k1_plus_1"], ["sat_num"]),
        helper.make_node("Div", ["sat_num", "sat_den"], ["sat"]),
        # Weighted, normalised query coverage, then the logit.
        helper.make_node("Mul", ["q", "sat"], ["contrib"]),
        helper.make_node("ReduceSum", ["contrib", "axis_1"], ["num"], keepdims=1),
        helper.make_node("ReduceSum", ["q", "axis_1"], ["q_total"], keepdims=1),
        helper.make_node("Max", ["q_total", "eps"], ["q_total_safe"]),
        helper.make_node("Mul", ["q_total_safe", "k1_plus_1"], ["den"]),
        helper.make_node("Div", ["num", "den"], ["coverage"]),
        helper.make_node("Mul", ["coverage", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "bias"], ["logits"]),
    ]
    I64 = TensorProto.INT64
    dims = ["batch_size", "sequence_length"]
    graph = helper.make_graph(
        nodes,
        "tiny_bert_cross_encoder",
        [
            helper.make_tensor_value_info("input_ids", I64, dims),
            helper.make_tensor_value_info("attention_mask", I64, dims),
            helper.make_tensor_value_info("token_type_ids", I64, dims),
        ],
        [helper.make_tensor_value_info("logits", F, ["batch_size", 1])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="embctl/scripts/make-tiny-cross-encoder.py",
        doc_string="Hand-built lexical-overlap (BM25-like) cross-encoder test fixture; not a trained model.",
    )
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "tiny-cross-encoder")
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    vocab = tiny.build_vocab()
    tiny.write_json(os.path.join(out, "tokenizer.json"), tiny.tokenizer_json(vocab), compact=True)
    tiny.write_json(os.path.join(out, "tokenizer_config.json"), tokenizer_config())
    tiny.write_json(os.path.join(out, "config.json"), config_json(len(vocab)))
    model = build_model(token_weights(vocab))
    with open(os.path.join(out, "onnx", "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {out}: vocab {len(vocab)}, max length {MAX_LEN}, output logits [batch, 1]")


if __name__ == "__main__":
    main()
