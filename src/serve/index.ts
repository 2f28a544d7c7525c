// The public surface of src/serve/: other folders import from here only.
export { createService } from './server.js';
export type { Service, ServiceOptions } from './server.js';
export { DEFAULT_CANARY_MINUTES } from './canary-monitor.js';
