import type { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/open.js';
import { migrate } from '../../migrate/runner.js';
import { getStatus } from '../../status/status.js';
import type { CliContext } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run the model-upgrade demo on a fresh embedded database (no network, no API key)')
    .option('--home <dir>', 'data folder for the demo database (default: a new temporary folder)')
    .addHelpText('after', `
Examples:
  $ npm run demo
  $ embctl demo --home ./demo-db`)
    .action(async (opts: { home?: string }) => {
      const home = opts.home ?? mkdtempSync(join(tmpdir(), 'embctl-demo-'));
      const o = ctx.out;
      o.line(`embctl demo — embedded database in ${home}`);
      const db = await openDatabase({ homeDir: home, logger: ctx.logger });
      try {
        const res = await migrate(db, { logger: ctx.logger });
        o.line(`1. migrate: applied ${res.applied.length} migration(s); schema version ${res.schemaVersion}`);
        const s = await getStatus(db);
        o.line(`2. status: ${s.backend} (PostgreSQL ${s.server}, pgvector ${s.pgvector}), ${s.chunks.live} chunks, ${s.versions.length} versions`);
        ctx.out.result({ home, status: s });
      } finally {
        await db.close();
      }
    });
}
