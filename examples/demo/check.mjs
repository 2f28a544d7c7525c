#!/usr/bin/env node
// Sanity checks for the demo corpus and judged set, plus a crude lexical
// baseline (BM25 over plain words) so you can see the queries are answerable
// but not trivially by exact phrase. Not part of embctl itself.
//
//   node examples/demo/check.mjs            # checks + per-segment scores
//   node examples/demo/check.mjs --show     # also top-5 per query, for judging review

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const show = process.argv.includes('--show');
const readJsonl = (p) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${p}:${i + 1}: ${e.message}`);
      }
    });

const docs = readJsonl(join(here, 'corpus.jsonl'));
const [header, ...queries] = readJsonl(join(root, 'evals', 'demo.judged.jsonl'));
const problems = [];
const fail = (m) => problems.push(m);

// ---- structure
const PREFIX = { products: 'prod', support: 'sup', invoices: 'inv', policies: 'pol' };
const byId = new Map();
for (const d of docs) {
  if (byId.has(d.id)) fail(`duplicate document id ${d.id}`);
  byId.set(d.id, d);
  const seg = d.metadata?.segment;
  if (!PREFIX[seg]) fail(`${d.id}: unknown segment ${seg}`);
  else if (!d.id.startsWith(PREFIX[seg] + '-')) fail(`${d.id}: id prefix does not match segment ${seg}`);
  if (!d.title || !d.text) fail(`${d.id}: missing title or text`);
  const words = d.text.split(/\s+/).length;
  if (words < 40 || words > 150) fail(`${d.id}: ${words} words (want 40-150)`);
}
if (header.embctl_judged_set !== 1 || header.key !== 'document_id') fail('bad judged-set header');
const qids = new Set();
for (const q of queries) {
  if (qids.has(q.id)) fail(`duplicate query id ${q.id}`);
  qids.add(q.id);
  if (!PREFIX[q.segment]) fail(`${q.id}: unknown segment ${q.segment}`);
  const rel = Object.entries(q.relevant ?? {});
  if (!rel.length) fail(`${q.id}: no relevant documents`);
  if (!rel.some(([id]) => byId.get(id)?.metadata.segment === q.segment))
    fail(`${q.id}: no relevant document in its own segment`);
  for (const [id, g] of rel) {
    if (!byId.has(id)) fail(`${q.id}: unknown document ${id}`);
    if (g !== 1 && g !== 2) fail(`${q.id}: grade ${g} for ${id}`);
  }
  if (!rel.some(([, g]) => g === 2)) fail(`${q.id}: no grade-2 document`);
}

// ---- shared text and chunking facts
const sentences = new Map();
for (const d of docs)
  for (const s of d.text.split(/(?<=[.!?])\s+/)) if (s.length > 80) sentences.set(s, (sentences.get(s) ?? 0) + 1);
const shared = [...sentences.values()].filter((n) => n > 1).length;
const long = docs.filter((d) => d.text.length > 600).length;

// ---- lexical baselines
const STOP = new Set(
  'a an the and or of to in on for with is are be it my i do can how what we our your you at by from that this as'.split(
    ' ',
  ),
);
const words = (t) =>
  t
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .match(/[a-z0-9]+/g) ?? [];
const stem = (w) => (w.length > 4 ? w.replace(/(ing|ed|es|s|ly)$/, '') : w);
const tokV1 = (t) => words(t).filter((w) => !STOP.has(w));
function tokV2(t) {
  const ws = words(t)
    .filter((w) => !STOP.has(w))
    .map(stem);
  const out = [...ws];
  for (let i = 0; i + 1 < ws.length; i++) out.push(ws[i] + '_' + ws[i + 1]);
  for (const w of ws) {
    const p = `#${w}#`;
    for (let i = 0; i + 3 <= p.length; i++) out.push('c:' + p.slice(i, i + 3));
  }
  return out;
}
function bm25(tok) {
  const D = docs.map((d) => tok(d.title + ' ' + d.text));
  const df = new Map();
  for (const toks of D) for (const t of new Set(toks)) df.set(t, (df.get(t) ?? 0) + 1);
  const avg = D.reduce((s, x) => s + x.length, 0) / D.length;
  const tfs = D.map((toks) => {
    const m = new Map();
    for (const t of toks) m.set(t, (m.get(t) ?? 0) + 1);
    return m;
  });
  return (query) => {
    const qt = [...new Set(tok(query))];
    return docs
      .map((d, i) => {
        let s = 0;
        for (const t of qt) {
          const f = tfs[i].get(t);
          if (!f) continue;
          const idf = Math.log(1 + (docs.length - df.get(t) + 0.5) / (df.get(t) + 0.5));
          s += (idf * (f * 2.2)) / (f + 1.2 * (0.25 + (0.75 * D[i].length) / avg));
        }
        return [d.id, s];
      })
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([id]) => id);
  };
}
function ndcg(ranked, rel, k = 10) {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    const g = rel[id] ?? 0;
    dcg += (2 ** g - 1) / Math.log2(i + 2);
  });
  const ideal = Object.values(rel)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = ideal.reduce((s, g, i) => s + (2 ** g - 1) / Math.log2(i + 2), 0);
  return dcg / idcg;
}
const systems = { 'bm25-words': bm25(tokV1), 'bm25-stem+bigram+char3': bm25(tokV2) };
const table = {};
let phraseHits = 0;
for (const q of queries) {
  const relDocs = Object.keys(q.relevant).map((id) => byId.get(id));
  if (
    relDocs.some(
      (d) =>
        d && (d.title + ' ' + d.text).toLowerCase().includes(q.query.toLowerCase()) && q.query.split(' ').length > 2,
    )
  )
    phraseHits++;
  for (const [name, search] of Object.entries(systems)) {
    const ranked = search(q.query);
    const row = (table[name] ??= {});
    (row[q.segment] ??= []).push(ndcg(ranked, q.relevant));
    (row.all ??= []).push(ndcg(ranked, q.relevant));
    if (show && name === 'bm25-words') {
      console.log(`\n${q.id} [${q.segment}] ${q.query}  judged: ${JSON.stringify(q.relevant)}`);
      for (const id of ranked.slice(0, 5))
        console.log(`   ${q.relevant[id] ? '*' + q.relevant[id] : '  '} ${id} ${byId.get(id).title}`);
    }
  }
}

const count = (xs, f) => xs.reduce((m, x) => ((m[f(x)] = (m[f(x)] ?? 0) + 1), m), {});
console.log(
  'documents',
  docs.length,
  count(docs, (d) => d.metadata.segment),
);
console.log(
  'queries  ',
  queries.length,
  count(queries, (q) => q.segment),
);
console.log(
  `documents over 600 characters (2+ chunks): ${long}; long sentences shared by several documents: ${shared}`,
);
console.log(`multi-word queries found verbatim in a relevant document: ${phraseHits}/${queries.length}`);
console.log('\nnDCG@10 (crude lexical baselines, not embctl encoders)');
const segs = ['products', 'support', 'invoices', 'policies', 'all'];
console.log('system'.padEnd(26) + segs.map((s) => s.padStart(10)).join(''));
for (const [name, row] of Object.entries(table)) {
  console.log(
    name.padEnd(26) +
      segs.map((s) => (row[s].reduce((a, b) => a + b, 0) / row[s].length).toFixed(3).padStart(10)).join(''),
  );
}
if (problems.length) {
  console.error('\nPROBLEMS:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('\nall checks passed');
