// The public surface of src/status/: other folders import from here only.
export { getStatus } from './status.js';
export type { Status, VersionStatus } from './status.js';
export {
  EMBEDDED_CEILING_HINT,
  EMBEDDED_CHUNK_CEILING,
  checkEmbeddedCeiling,
  embeddedCeilingWarning,
} from './ceiling.js';
export type { BatchJobStatus, VersionBatchApi } from './batch-jobs.js';
export type { ClusterNode, VersionShards } from './cluster.js';
