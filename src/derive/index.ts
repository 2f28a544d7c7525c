// The public surface of src/derive/: derived versions (issue 16).
export { checkDeriveFlags, declaresMatryoshka, MAX_RERANK, planDerive } from './plan.js';
export type { DeriveInput, DerivePlan } from './plan.js';
export { deriveVersion } from './run.js';
export type { DeriveDeps, DeriveResult } from './run.js';
export { storageFigures } from './storage.js';
export type { StorageFigures } from './storage.js';
