// The public surface of src/util/: other folders import from here only.
export { backoffDelay } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { cutText } from './cut-text.js';
export { failpoint } from './failpoint.js';
export { hasLoneSurrogate, jsonValueProblem, textProblem } from './json-value.js';
export { writeOutputFile } from './output-file.js';
export { ProblemList, at, splitLines } from './problems.js';
export { isProcessAlive } from './process-alive.js';
export { parseWorkerId, pidReused, workerNonce } from './process-identity.js';
export { processStartTime } from './process-start.js';
export type { OnProgress, Progress } from './progress.js';
export { readText } from './read-text.js';
export { parseRetryAfter } from './retry-after.js';
export { abortReason, sleep } from './sleep.js';
export { formatTable } from './table.js';
