import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { RefusedError } from '../errors.js';
import { activeVersion, requireVersion, type VersionRow } from '../versions/index.js';

/** Where the version serving a request came from. */
export type VersionSource = 'request' | 'pinned' | 'active';

export interface ResolvedVersion {
  row: VersionRow;
  source: VersionSource;
}

/**
 * The one version a request is served by, read once: the requested one,
 * else the process's pin (EMBCTL_PIN_VERSION), else the active one.
 * `active` and `byKey` may answer from a cache kept fresh by the caller.
 */
export async function resolveVersion(
  db: Kysely<DB>,
  requested: string | undefined,
  pinned: string | undefined,
  active: () => Promise<VersionRow | undefined> = () => activeVersion(db),
  byKey: (key: string) => Promise<VersionRow> = (key) => requireVersion(db, key),
): Promise<ResolvedVersion> {
  if (requested !== undefined) {
    const row = await byKey(requested);
    if (row.state === 'retired')
      throw new RefusedError(
        `version ${row.version_key} is retired (its vectors were dropped): search another version (embctl versions list)`,
      );
    return { row, source: 'request' };
  }
  if (pinned !== undefined) {
    const row = await requireVersion(db, pinned);
    if (row.state === 'retired')
      throw new RefusedError(
        `EMBCTL_PIN_VERSION=${pinned} names a retired version: pin another version or unset it to serve the active one`,
      );
    return { row, source: 'pinned' };
  }
  const row = await active();
  if (!row)
    throw new RefusedError(
      'no version is active: activate one with embctl activate <key> (or search one with --version <key>)',
    );
  return { row, source: 'active' };
}
