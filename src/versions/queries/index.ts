/** The SQL operations on `embedding_versions` outside store.ts, one function each (callers pass their transaction). */
export { insertVersion } from './insert-version.js';
export { transitionState } from './transition-state.js';
export { setCalibration } from './set-calibration.js';
export { lockVersion, lockVersionAndActive } from './lock-versions.js';
export { markRetired } from './mark-retired.js';
export { setActiveFlag } from './set-active-flag.js';
export { versionKeysById, versionKeysOf, findVersionId } from './version-keys.js';
export { liveVersionIds } from './live-version-ids.js';
export { versionsSignature } from './versions-signature.js';
