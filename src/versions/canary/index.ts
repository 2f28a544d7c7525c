/** The encoder canary (issue 15): recorded at registration, re-embedded and compared by verify, serve and the gate. */
export { CANARY_TOLERANCE, compareCanary, cosine, type CanaryComparison, type CanaryTolerance } from './compare.js';
export { MAX_CANARY_SAMPLE, assembleCanarySet, embedCanaryTexts, reportedModelOf, type CanarySet } from './embed.js';
export {
  checkCanarySample,
  recordCanary,
  storeCanary,
  type EmbeddedCanary,
  type RecordCanaryOptions,
} from './record.js';
export { deriveCanary } from './derived.js';
export { canaryVectorsFor } from './derived-vectors.js';
export { CANARY_SET_FILE, shippedCanarySet, type CanaryText } from './shipped-set.js';
export { lastCanaryEvent, readCanary, type CanaryEventKind, type StoredCanary } from './store.js';
export { canaryMessage, verifyCanary, type CanaryCheck, type VerifyCanaryDeps } from './verify.js';
