/**
 * judged-set: judged query sets in embctl JSONL, TREC (qrels + queries) and
 * BEIR layouts, read into one canonical form with a content hash; every
 * problem of a file is reported at once.
 */
export {
  canonicalJudgedSet,
  judgedSetQrels,
  toJudgedSetJsonl,
  isKeyKind,
  makeJudgedSet,
  gradeProblem,
  KEY_KINDS,
  type JudgedSet,
  type JudgedQuery,
  type KeyKind,
  type JudgedSetOptions,
} from './judged-set.js';
export { parseJudgedSetJsonl, readJudgedSetJsonl } from './jsonl.js';
export { parseTrecJudgedSet, readTrecJudgedSet, type TrecJudgedSetInput } from './trec.js';
export { readBeirJudgedSet, type BeirOptions } from './beir.js';
export { loadJudgedSet, type LoadJudgedSetOptions } from './load.js';
