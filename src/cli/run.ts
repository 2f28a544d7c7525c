import { main } from './main.js';

// The executable entry: run, then exit with the command's code.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
