import type { Db } from '../db/index.js';
import { gateCanary } from '../evaluate/index.js';
import type { VersionRow } from '../versions/index.js';
import type { CliContext } from './context.js';

/** `evaluate --gate`: the candidate's encoder canary first (a moved canary fails the gate, exit 1, before scoring). */
export async function checkGateCanary(ctx: CliContext, db: Db, candidate: VersionRow): Promise<void> {
  const check = await gateCanary(db, candidate, {
    actor: ctx.config.actorName,
    logger: ctx.logger,
    encoderDeps: ctx.encoderDeps(),
  });
  if (check.status === 'no_canary') ctx.logger.warn(`${check.message}; the gate runs without a canary check`);
  ctx.out.line(check.status === 'no_canary' ? `canary: none recorded for ${candidate.version_key}` : check.message);
}
