import type { Db } from '../db/index.js';
import { RefusedError } from '../errors.js';
import { parseEventDetails } from '../versions/index.js';
import { recordEvent, requireVersion } from '../versions/index.js';
import type { LifecycleDeps } from './activate.js';
import { lockRows, moveActiveFlag } from './flip.js';
import { lockLifecycle, notifyVersionChange } from './notify.js';
import { checkOverrideOptions, refuseUnlessForced, type OverrideOptions } from './override.js';
import { checkReadiness, type Problem } from './readiness.js';

export interface RollbackOptions extends OverrideOptions {
  /** Roll back to this version (it must have been active before); default: the previously active one. */
  to?: string;
}

export interface RollbackResult {
  version: string;
  /** The version that was active (null when none was). */
  previous: string | null;
  changed: boolean;
  forced: boolean;
  overridden: Problem[];
  /** Live chunks with a vector in neither version (ingested since the last sync): `embctl sync` embeds them. */
  missingInBoth: number;
}

/**
 * `embctl rollback [--to <key>]`: back to the previously active version —
 * the `previous` of the latest `activated` or `rolled_back` event, so two
 * rollbacks in a row toggle — in ONE transaction, recording `rolled_back`.
 *
 * It is the emergency path, so it does not re-check evaluation gates. It
 * does check that the target can serve: not retired (never overridable),
 * no live chunk missing that the serving version has (a version missing
 * them would silently drop results; chunks neither version has, ingested
 * since the last sync, are reported, not refused) and its ANN index valid
 * (one without would fall to exact scans under load); those two may be
 * overridden with `force` + `reason`. For a rollback that needs no database write at all,
 * pin serving processes with EMBCTL_PIN_VERSION.
 */
export async function rollback(db: Db, opts: RollbackOptions & LifecycleDeps): Promise<RollbackResult> {
  checkOverrideOptions(opts);
  if (opts.to !== undefined) await requireVersion(db.kysely, opts.to);
  const result = await db.kysely.transaction().execute(async (trx) => {
    await lockLifecycle(trx);
    const targetKey = opts.to ?? (await previousFromAuditTrail(trx));
    if (opts.to !== undefined) {
      const before = await trx
        .selectFrom('version_events')
        .select('id')
        .where('version_key', '=', opts.to)
        .where('event', 'in', ['activated', 'rolled_back'])
        .limit(1)
        .executeTakeFirst();
      if (!before)
        throw new RefusedError(
          `cannot roll back to ${opts.to}: it was never active (use embctl activate ${opts.to} to activate a new version)`,
        );
    }
    const { target, active } = await lockRows(trx, targetKey);
    if (!target) throw new RefusedError(`cannot roll back: the previous version ${targetKey} no longer exists`);
    if (target.active)
      return {
        version: targetKey,
        previous: targetKey,
        changed: false,
        forced: false,
        overridden: [],
        missingInBoth: 0,
      } satisfies RollbackResult;
    // Coverage is judged against the version serving now: chunks neither has (a plain ingest
    // since the last sync) do not make the rollback any worse than staying.
    const readiness = await checkReadiness(trx, target, { gate: false, comparedTo: active });
    const overridden = refuseUnlessForced(`roll back to ${targetKey}`, readiness.problems, opts);
    const forced = overridden.length > 0;
    const previous = active?.version_key ?? null;
    await moveActiveFlag(trx, target, opts.actor);
    await recordEvent(trx, {
      versionId: target.id,
      versionKey: targetKey,
      event: 'rolled_back',
      actor: opts.actor,
      reason: opts.reason ?? null,
      forced,
      details: {
        previous,
        forced,
        to: opts.to ?? null,
        ...(forced && { overridden: overridden.map((p) => ({ code: p.code, message: p.message })) }),
      },
    });
    await notifyVersionChange(trx, { event: 'rolled_back', version: targetKey, previous });
    return {
      version: targetKey,
      previous,
      changed: true,
      forced,
      overridden,
      missingInBoth: readiness.missingInBoth ?? 0,
    } satisfies RollbackResult;
  });
  if (result.changed)
    opts.logger?.info(
      {
        version: result.version,
        previous: result.previous,
        forced: result.forced,
        actor: opts.actor,
        reason: opts.reason,
      },
      'rolled back',
    );
  return result;
}

async function previousFromAuditTrail(trx: Parameters<typeof lockLifecycle>[0]): Promise<string> {
  const last = await trx
    .selectFrom('version_events')
    .select(['version_key', 'event', 'details'])
    .where('event', 'in', ['activated', 'rolled_back'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) throw new RefusedError('nothing to roll back: no version was ever activated (embctl activate <key>)');
  const previous = parseEventDetails(last.event as 'activated' | 'rolled_back', last.details)?.previous;
  if (typeof previous !== 'string') {
    throw new RefusedError(
      `nothing to roll back to: ${last.version_key} was the first version activated (use embctl rollback --to <key> or embctl activate <key>)`,
    );
  }
  return previous;
}
