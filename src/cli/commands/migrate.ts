import type { Command } from 'commander';
import { migrate } from '../../migrate/index.js';
import type { CliContext } from '../context.js';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply pending schema migrations (idempotent; safe to run from several processes at once)')
    .option('--dry-run', 'list the migrations that would be applied, change nothing')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl migrate                 # embedded database in ./.embctl
  $ DATABASE_URL=postgres://app@db/app embctl migrate --dry-run`,
    )
    .action(async (opts: { dryRun?: boolean }) => {
      const db = await ctx.db();
      const res = await migrate(db, { dryRun: opts.dryRun, logger: ctx.logger });
      ctx.out.result({ backend: db.backend, location: db.location, ...res });
      const name = (m: { id: number; name: string }) => `${String(m.id).padStart(4, '0')}_${m.name}`;
      if (res.dryRun) {
        ctx.out.line(
          res.pending.length === 0
            ? `schema is up to date (version ${res.schemaVersion}); nothing to apply`
            : `would apply ${res.pending.length} migration(s) to ${db.location}: ${res.pending.map(name).join(', ')}`,
        );
      } else if (res.applied.length === 0) {
        ctx.out.line(`schema is up to date (version ${res.schemaVersion})`);
      } else {
        ctx.out.line(
          `applied ${res.applied.map(name).join(', ')} to ${db.location}; schema version ${res.schemaVersion}`,
        );
      }
    });
}
