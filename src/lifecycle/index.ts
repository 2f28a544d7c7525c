/** Cut-over and rollback: one flag, flipped in one transaction, with an audit trail. */
export { activate, type ActivateResult, type LifecycleDeps } from './activate.js';
export { rollback, type RollbackOptions, type RollbackResult } from './rollback.js';
export { retire, planRetire, type RetirePlan, type RetireResult } from './retire.js';
export { checkReadiness, type Readiness, type Problem } from './readiness.js';
export type { OverrideOptions } from './override.js';
export { VERSION_CHANNEL, type VersionChange } from './notify.js';
export { watchVersionChanges, type VersionWatcher, type WatchEvent, type WatchOptions } from './watch.js';
export { notifyVersionChange } from './notify.js';
