import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerMigrate } from './migrate.js';
import { registerStatus } from './status.js';
import { registerDemo } from './demo.js';
import { registerVersions } from './versions.js';
import { registerIngest } from './ingest.js';
import { registerBackfill } from './backfill.js';
import { registerShadow } from './shadow.js';
import { registerReport } from './report.js';
import { registerEvaluate } from './evaluate.js';
import { registerServe } from './serve.js';
import { registerCalibrate, registerSearch } from './search.js';
import { registerLifecycle } from './lifecycle.js';
import { registerJudge } from './judge.js';

/** Every command module, in the order `embctl --help` lists them. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerMigrate(program, ctx);
  registerStatus(program, ctx);
  registerIngest(program, ctx);
  registerVersions(program, ctx);
  registerCalibrate(program, ctx);
  registerBackfill(program, ctx);
  registerSearch(program, ctx);
  registerLifecycle(program, ctx);
  registerShadow(program, ctx);
  registerJudge(program, ctx);
  registerEvaluate(program, ctx);
  registerReport(program, ctx);
  registerServe(program, ctx);
  registerDemo(program, ctx);
}
