import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { activate, planRetire, retire, rollback } from '../../lifecycle/index.js';
import { RefusedError, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { requireSchema } from '../schema-guard.js';

interface ForceFlags {
  force?: boolean;
  reason?: string;
}

/** `embctl activate`, `embctl rollback`, `embctl retire`. */
export function registerLifecycle(program: Command, ctx: CliContext): void {
  program
    .command('activate <key>')
    .description('make a version the one that serves: one flag flip, in one transaction')
    .option('--force', 'activate despite failed checks (needs --reason; recorded)')
    .option('--reason <text>', 'why, for the audit trail (required with --force)')
    .addHelpText(
      'after',
      `
Refused (exit 1) when the version is retired, not fully backfilled, has no
valid ANN index, or its last gated evaluation failed or is missing — unless
--force --reason "..." (recorded as forced in the audit trail).

Examples:
  $ embctl activate v2
  $ embctl activate v2 --force --reason "gate flaky on segment legal, approved by @ana"`,
    )
    .action(async (key: string, f: ForceFlags) => {
      const db = await ctx.writableDb(`activate ${key}`);
      await requireSchema(db);
      const r = await activate(db, key, {
        force: f.force,
        reason: f.reason,
        actor: ctx.config.actorName,
        logger: ctx.logger,
      });
      ctx.out.result(r);
      if (!r.changed) ctx.out.line(`${key} is already active: nothing to do`);
      else {
        ctx.out.line(`${key} is now active${r.previous ? ` (was ${r.previous})` : ''}${r.forced ? ' — FORCED' : ''}`);
        for (const p of r.overridden) ctx.out.line(`  overridden: ${p.message}`);
        if (r.previous) ctx.out.line(`to undo: embctl rollback`);
      }
    });

  program
    .command('rollback')
    .description('flip back to the previously active version (or --to <key>), in one transaction')
    .option('--to <key>', 'roll back to this version (it must have been active before)')
    .option('--force', 'roll back despite missing vectors or index (needs --reason; recorded)')
    .option('--reason <text>', 'why, for the audit trail')
    .addHelpText(
      'after',
      `
The previous version is read from the audit trail; two rollbacks in a row
toggle. Gates are not re-checked (emergency path); the target must not be
retired, must not lack vectors the active version has (chunks neither has,
ingested since the last sync, are reported), and needs a valid index, unless
--force --reason. To move a process off a version with no database write,
set EMBCTL_PIN_VERSION=<key> for it instead.

Examples:
  $ embctl rollback
  $ embctl rollback --to v1 --reason "latency regression"`,
    )
    .action(async (f: ForceFlags & { to?: string }) => {
      const db = await ctx.writableDb('roll back');
      await requireSchema(db);
      const r = await rollback(db, {
        to: f.to,
        force: f.force,
        reason: f.reason,
        actor: ctx.config.actorName,
        logger: ctx.logger,
      });
      ctx.out.result(r);
      if (!r.changed) ctx.out.line(`${r.version} is already active: nothing to do`);
      else
        ctx.out.line(
          `rolled back to ${r.version}${r.previous ? ` (was ${r.previous})` : ''}${r.forced ? ' — FORCED' : ''}`,
        );
      if (r.changed && r.missingInBoth > 0) {
        ctx.out.line(
          `note: ${r.missingInBoth} live chunks (ingested since the last sync) have no vector in either version, so searches miss them: run embctl sync`,
        );
      }
    });

  program
    .command('retire <key>')
    .description("drop a non-active version's vectors and index; its row and audit trail stay")
    .option('--yes', 'do not ask for confirmation')
    .option('--reason <text>', 'why, for the audit trail')
    .addHelpText(
      'after',
      `
Cannot be undone: the version's partition (vectors and ANN index) is dropped.
Asks for confirmation on a terminal; elsewhere pass --yes.

Examples:
  $ embctl retire v1
  $ embctl retire v1 --yes --reason "replaced by v2"`,
    )
    .action(async (key: string, f: { yes?: boolean; reason?: string }) => {
      const db = await ctx.writableDb(`retire ${key}`);
      await requireSchema(db);
      const plan = await planRetire(db, key);
      if (plan.alreadyRetired) {
        ctx.out.result({ version: key, changed: false, vectorsDropped: 0, batchesRemoved: 0 });
        ctx.out.line(`${key} is already retired: nothing to do`);
        return;
      }
      if (!f.yes) {
        const question = `retire ${key}: drop its ${plan.vectors} vectors and its index? This cannot be undone. [y/N] `;
        if (!(process.stdin.isTTY && process.stderr.isTTY)) {
          throw new UsageError(
            `retiring ${key} drops its ${plan.vectors} vectors and cannot be undone: pass --yes to confirm (no terminal to ask on)`,
          );
        }
        if (!(await confirm(question))) {
          throw new RefusedError(`retire ${key} not confirmed: nothing was changed`);
        }
      }
      const r = await retire(db, key, { reason: f.reason, actor: ctx.config.actorName, logger: ctx.logger });
      ctx.out.result(r);
      ctx.out.line(
        r.changed
          ? `retired ${key}: dropped ${r.vectorsDropped} vectors and the index; its audit trail stays`
          : `${key} is already retired: nothing to do`,
      );
    });
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
