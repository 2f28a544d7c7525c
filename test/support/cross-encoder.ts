/**
 * The cross-encoder fixtures: the tiny hand-built reranker
 * (scripts/make-tiny-cross-encoder.py) and, as the broken case, the tiny
 * embedding model, which has no classification head.
 */
import { fileURLToPath } from 'node:url';

/** The shipped tiny lexical-overlap cross-encoder (scripts/make-tiny-cross-encoder.py). */
export const TINY_CROSS_ENCODER = fileURLToPath(new URL('../fixtures/tiny-cross-encoder', import.meta.url));
/** The shipped tiny embedding model: a BERT without a classification head. */
export const TINY_EMBEDDING_MODEL = fileURLToPath(new URL('../fixtures/tiny-model', import.meta.url));
