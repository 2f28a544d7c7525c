// The public surface of src/partitions/: other folders import from here only.
export { copyBinaryWriter, encodeRows } from './embedding-writer.js';
export type { EmbeddingRow, EncodedRows } from './embedding-writer.js';
export {
  annIndexName,
  annIndexState,
  annIndexStatement,
  createPartition,
  castExpression,
  distanceOperator,
  dropPartition,
  indexOperator,
  nearestQuery,
  partitionExists,
  partitionTable,
  queryCast,
} from './partition.js';
export type { IndexState, PartitionSpec } from './partition.js';
export {
  columnSizeSql,
  derivationOf,
  derivedQueryVector,
  queryDimensions,
  queryVectorSql,
  storedType,
  transformSql,
  vectorColumn,
} from './transform.js';
export type { Derivation, DerivedSpec, VectorColumn } from './transform.js';
export { fillDerived } from './derive-fill.js';
export type { DeriveFillOptions, DeriveFillProgress, DeriveFillResult } from './derive-fill.js';
