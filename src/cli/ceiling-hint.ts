import type { Db } from '../db/index.js';
import { checkEmbeddedCeiling, embeddedCeilingWarning, EMBEDDED_CHUNK_CEILING } from '../status/index.js';
import type { CliContext } from './context.js';

/**
 * The ceiling in force: the measured one, or EMBCTL_EMBEDDED_CEILING (README
 * configuration: a faster machine may raise it; the tests lower it to show
 * the hint without ingesting a huge corpus).
 */
export function embeddedCeiling(env: NodeJS.ProcessEnv): number {
  const n = Number(env.EMBCTL_EMBEDDED_CEILING);
  return env.EMBCTL_EMBEDDED_CEILING && Number.isInteger(n) && n >= 0 ? n : EMBEDDED_CHUNK_CEILING;
}

/**
 * One warning line on stderr when the embedded database holds more live
 * chunks than it was measured to handle (never on a server; never on stdout,
 * so --json output stays one document). `liveChunks` when the command
 * counted them already. A failed count is no reason to fail the command.
 */
export async function warnPastEmbeddedCeiling(ctx: CliContext, db: Db, liveChunks?: number): Promise<void> {
  if (db.backend !== 'pglite') return;
  const ceiling = embeddedCeiling(ctx.env);
  try {
    const hint =
      liveChunks === undefined
        ? await checkEmbeddedCeiling(db, ceiling)
        : embeddedCeilingWarning(db.backend, liveChunks, ceiling);
    if (hint) process.stderr.write(`embctl: warning: ${hint}\n`);
  } catch {
    // no schema yet, or the database went away: the command reports what matters
  }
}
