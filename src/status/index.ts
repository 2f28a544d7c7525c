// The public surface of src/status/: other folders import from here only.
export { getStatus } from './status.js';
export type { Status, VersionStatus } from './status.js';
export type { BatchJobStatus, VersionBatchApi } from './batch-jobs.js';
