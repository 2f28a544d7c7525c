import type { Db } from '../db/index.js';
import type { Logger } from '../log/index.js';
import { recordEvent, requireVersion } from '../versions/index.js';
import { lockRows, moveActiveFlag } from './flip.js';
import { lockLifecycle, notifyVersionChange } from './notify.js';
import { checkOverrideOptions, refuseUnlessForced, type OverrideOptions } from './override.js';
import { checkReadiness, type Problem } from './readiness.js';

export interface LifecycleDeps {
  /** Who acts, for the audit trail. */
  actor: string;
  logger?: Logger;
}

export interface ActivateResult {
  version: string;
  /** The version active before (null when none was). */
  previous: string | null;
  /** False when the version was already active (nothing was written). */
  changed: boolean;
  forced: boolean;
  /** Problems overridden by force (empty unless forced). */
  overridden: Problem[];
}

/**
 * `embctl activate <key>`: make a version the one that serves, in ONE
 * transaction that takes the lifecycle lock, checks the version (not
 * retired, fully backfilled, ANN index valid, last gated evaluation passed),
 * clears the old flag and sets the new one, records an `activated` event
 * (previous version, forced, actor, reason) and notifies listeners
 * (delivered at commit). Refused with RefusedError unless `force` with a
 * `reason`; a retired version is refused even then.
 */
export async function activate(db: Db, key: string, opts: OverrideOptions & LifecycleDeps): Promise<ActivateResult> {
  checkOverrideOptions(opts);
  await requireVersion(db.kysely, key); // InputError listing the known keys
  const result = await db.kysely.transaction().execute(async (trx) => {
    await lockLifecycle(trx);
    const { target, active } = await lockRows(trx, key);
    const v = target!;
    if (v.active) {
      return { version: key, previous: key, changed: false, forced: false, overridden: [] } satisfies ActivateResult;
    }
    const readiness = await checkReadiness(trx, v, { gate: true });
    const overridden = refuseUnlessForced(`activate ${key}`, readiness.problems, opts);
    const forced = overridden.length > 0;
    await moveActiveFlag(trx, v, opts.actor);
    const previous = active?.version_key ?? null;
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: key,
      event: 'activated',
      actor: opts.actor,
      reason: opts.reason ?? null,
      forced,
      details: {
        previous,
        forced,
        ...(forced && { overridden: overridden.map((p) => ({ code: p.code, message: p.message })) }),
        live: readiness.live,
        gateRun: readiness.gate?.runId ?? null,
      },
    });
    await notifyVersionChange(trx, { event: 'activated', version: key, previous });
    return { version: key, previous, changed: true, forced, overridden } satisfies ActivateResult;
  });
  if (result.changed) {
    const log = {
      version: key,
      previous: result.previous,
      forced: result.forced,
      actor: opts.actor,
      reason: opts.reason,
    };
    if (result.forced)
      opts.logger?.warn({ ...log, overridden: result.overridden.map((p) => p.code) }, 'version activated by force');
    else opts.logger?.info(log, 'version activated');
  }
  return result;
}
