// The public surface of src/config/: other folders import from here only.
export { loadConfig } from './load.js';
export type { ConfigInput } from './load.js';
export type { Config, ConfigKey } from './schema.js';
