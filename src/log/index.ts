// The public surface of src/log/: other folders import from here only.
export { createLogger, scrubSecrets, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
