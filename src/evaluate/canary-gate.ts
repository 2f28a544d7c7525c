/**
 * `evaluate --gate` checks the candidate's encoder canary first: a version
 * whose encoder no longer is the model it was registered with cannot pass a
 * gate, whatever its stored vectors score (its queries would be embedded by
 * the changed model). The check is recorded like `versions verify`'s.
 */
import type { Db } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import { RefusedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { verifyCanary, type CanaryCheck, type VersionRow } from '../versions/index.js';

export interface GateCanaryDeps {
  actor: string;
  logger?: Logger;
  encoderDeps?: EncoderDeps;
}

/**
 * The candidate's canary check: returns it when it holds or when the version
 * has none (status `no_canary`: the gate goes on, the caller says so); throws
 * a RefusedError (`canary_failed`, exit 1) when it moved, before any query is
 * scored. An encoder that cannot embed the canary throws its own error.
 */
export async function gateCanary(db: Db, candidate: VersionRow, deps: GateCanaryDeps): Promise<CanaryCheck> {
  const check = await verifyCanary(db, candidate, { ...deps, by: 'gate', record: 'always' });
  if (check.status === 'failed')
    throw new RefusedError(`gate failed for ${candidate.version_key}: ${check.message}`, [], { code: 'canary_failed' });
  return check;
}
