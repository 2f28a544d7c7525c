/**
 * The tests' retriever: exact cosine (or the version's metric) search over
 * one version's partition with `nearestQuery`, the query embedded with the
 * version's own encoder. It is the reference the evaluation is checked
 * with, independent of the search module; the implementation lives in
 * src/evaluate/exact-retriever.ts because `embctl evaluate` uses it too
 * until the indexed search is wired in.
 */
export { createExactRetriever, type ClosableRetriever } from '../../src/evaluate/exact-retriever.js';
