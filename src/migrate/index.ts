// The public surface of src/migrate/: other folders import from here only.
export { readMigrations } from './files.js';
export { migrate, schemaVersion } from './runner.js';
export type { MigrateResult } from './runner.js';
