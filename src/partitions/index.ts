// The public surface of src/partitions/: other folders import from here only.
export { copyBinaryWriter, encodeRows } from './embedding-writer.js';
export type { EmbeddingRow, EncodedRows } from './embedding-writer.js';
export {
  annIndexName,
  annIndexState,
  annIndexStatement,
  createPartition,
  distanceOperator,
  dropPartition,
  nearestQuery,
  partitionExists,
  partitionTable,
  queryCast,
} from './partition.js';
export type { IndexState, PartitionSpec } from './partition.js';
