// The public surface of src/versions/: other folders import from here only.
export { encoderForVersion } from './encoder-for-version.js';
export { parseEventDetails } from './event-details.js';
export {
  CANARY_SET_FILE,
  CANARY_TOLERANCE,
  MAX_CANARY_SAMPLE,
  canaryMessage,
  deriveCanary,
  lastCanaryEvent,
  readCanary,
  recordCanary,
  shippedCanarySet,
  verifyCanary,
} from './canary/index.js';
export type {
  CanaryCheck,
  CanaryTolerance,
  RecordCanaryOptions,
  StoredCanary,
  VerifyCanaryDeps,
} from './canary/index.js';
export {
  findVersionId,
  liveVersionIds,
  lockVersion,
  lockVersionAndActive,
  markRetired,
  setActiveFlag,
  setCalibration,
  transitionState,
  versionKeysById,
  versionKeysOf,
  versionsSignature,
} from './queries/index.js';
export { registerVersion } from './register.js';
export { markReady } from './mark-ready.js';
export type { RegisterInput } from './register.js';
export {
  VERSION_KEY,
  VERSION_KEY_RULE,
  activeVersion,
  coverage,
  findVersion,
  listVersions,
  recordEvent,
  requireVersion,
} from './store.js';
export type { VersionRow } from './store.js';
