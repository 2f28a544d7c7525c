// The public surface of src/cli/: the command line as a function (bin/embctl.js runs src/cli/run.ts).
export { main } from './main.js';
