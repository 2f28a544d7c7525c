import type { Command } from 'commander';
import { RefusedError, UsageError } from '../../errors.js';
import { MAX_CANARY_SAMPLE, recordCanary, verifyCanary } from '../../versions/index.js';
import type { CliContext } from '../context.js';
import { intOption } from '../options.js';
import { requireSchema } from '../schema-guard.js';

interface VerifyFlags {
  record?: boolean;
  canarySample?: number;
  force?: boolean;
  reason?: string;
}

/** `embctl versions verify <key>`: the encoder canary, embedded again and compared (or recorded with --record). */
export function registerVerify(versions: Command, ctx: CliContext): void {
  versions
    .command('verify <key>')
    .description("check that a version's encoder still is the model it was registered with (its canary set)")
    .option('--record', 'record a canary for a version that has none (registered before embctl recorded them)')
    .option(
      '--canary-sample <n>',
      `with --record: also embed this many live corpus texts (max ${MAX_CANARY_SAMPLE})`,
      intOption(0, MAX_CANARY_SAMPLE),
    )
    .option('--force', 'with --record: replace an existing canary (needs --reason; recorded)')
    .option('--reason <text>', 'why, for the audit trail (required with --force)')
    .addHelpText(
      'after',
      `
Embeds the version's canary texts again in one batch and compares each with
the vector stored at registration (cosine, and the largest coordinate change).
Tolerance per encoder kind: hash: and local: must come back exactly (cosine
≥ 1 - 1e-6; max abs diff ≤ 1e-6 for hash:, 1e-5 for local:); openai: each
text keeps a cosine ≥ 0.999 (hosted models are not bit-stable). Records a
canary_checked or canary_failed event; activate refuses a version whose last
check failed.

Exit 0: the canary holds. Exit 1: it moved (the model changed), or the
version has no canary (record one with --record), or the encoder failed.

Examples:
  $ embctl versions verify v2
  $ embctl versions verify v2 --json
  $ embctl versions verify v1 --record                 # a version registered before canaries
  $ embctl versions verify v1 --record --force --reason "new canary after provider migration"`,
    )
    .action(async (key: string, f: VerifyFlags) => {
      const db = await ctx.writableDb(`verify ${key}`);
      await requireSchema(db);
      if (f.record) {
        const r = await recordCanary(db, key, {
          actor: ctx.config.actorName,
          logger: ctx.logger,
          encoderDeps: ctx.encoderDeps(),
          corpusSample: f.canarySample,
          force: f.force,
          reason: f.reason,
        });
        ctx.out.result(r);
        ctx.out.line(
          `recorded a canary for ${r.version}: ${r.texts} texts, model ${r.reportedModel}${r.replaced ? ' (replaced the previous one)' : ''}`,
        );
        return;
      }
      if (f.force || f.reason !== undefined || f.canarySample !== undefined)
        throw new UsageError('--force, --reason and --canary-sample apply to --record only');
      const check = await verifyCanary(db, key, {
        actor: ctx.config.actorName,
        logger: ctx.logger,
        encoderDeps: ctx.encoderDeps(),
        by: 'verify',
      });
      ctx.out.result(check);
      if (check.status === 'no_canary') throw new RefusedError(check.message);
      if (check.status === 'failed') {
        ctx.out.line(`${check.moved} of ${check.texts} canary texts moved; the lowest cosines:`);
        for (const w of check.worst) ctx.out.line(`  text ${w.position}: cosine ${w.cosine.toFixed(6)}  ${w.text}`);
        throw new RefusedError(check.message, [], { code: 'canary_failed' });
      }
      ctx.out.line(check.message);
    });
}
