import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { derivationOf, partitionTable, queryDimensions } from '../partitions/index.js';
import { jsonValueProblem } from '../util/index.js';
import { QueryVector } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import type { Encoder } from '../encoders/index.js';
import { InputError, RefusedError } from '../errors.js';
import { silentLogger, type Logger } from '../log/index.js';
import { watchVersionChanges, type VersionWatcher } from '../lifecycle/index.js';
import { encoderForVersion } from '../versions/index.js';
import { activeVersion, requireVersion, type VersionRow } from '../versions/index.js';
import { applyCalibration, parseCalibration } from './calibration.js';
import { checkFilter } from './filters.js';
import { DEFAULT_EF_SEARCH, ivfflatLists, type Knobs } from './knobs.js';
import { resolveVersion, type ResolvedVersion } from './resolve-version.js';
import { reciprocalRankFusion, RRF_K } from './rrf.js';
import { explainReplicaLag } from './replica-lag.js';
import { runQuery } from './run-query.js';
import { scoreFromDistance } from './score.js';
import type { CandidateRow } from './sql.js';
import type { SearchHit, SearchRequest, SearchResult } from './types.js';

export const DEFAULT_K = 10;
export const MAX_K = 1000;
/** Filters are containment objects (`metadata @> filters`): deeper than this is not a filter anyone means. */
export const MAX_FILTER_DEPTH = 32;
/** Hybrid: candidates taken from each side, per result wanted. */
export const HYBRID_CANDIDATES_PER_K = 4;

export interface SearcherOptions {
  logger?: Logger;
  /** Serve this version instead of the active one (EMBCTL_PIN_VERSION): the rollback that needs no database write. */
  pinVersion?: string;
  /** What encoders need (API keys, base URLs); `hash:` encoders need nothing. */
  encoderDeps?: EncoderDeps;
  /**
   * Cache the active version, and the rows of versions requests name, and
   * drop the cache when a version changes (LISTEN/NOTIFY on a server, a 1 s
   * poll on PGlite). Default false: the version is read per request (one
   * indexed select, cheap), which also sees a flip made a moment ago by this
   * very process (and is what a hot standby needs: it cannot LISTEN).
   */
  watchActive?: boolean;
  /** Per-process defaults for the ANN settings. */
  knobs?: Knobs;
  /** Test seam: make a version's encoder another way. */
  makeEncoder?: (v: VersionRow) => Promise<Encoder>;
}

export interface Searcher {
  search(req: SearchRequest): Promise<SearchResult>;
  /** The version a request without `version` would be served by now (pin, else active). */
  servingVersion(): Promise<ResolvedVersion>;
  /** Forget the cached active version and version rows (this process just flipped or changed one; the notification may still be on its way). */
  invalidateActive(): void;
  /**
   * How this searcher learns the active version: 'pinned' (EMBCTL_PIN_VERSION),
   * 'per-request' (read each time), 'listening' (cached, kept fresh by the
   * watcher), or 'reconnecting' (the watcher lost its connection; read per
   * request until it is back).
   */
  activeSource(): 'pinned' | 'per-request' | 'listening' | 'reconnecting';
  /** A version's encoder, as searches use it (made once per version and encoder identity, then kept). */
  encoderOf(v: VersionRow): Promise<Encoder>;
  /** Close the encoders and the watcher. Safe twice. */
  close(): Promise<void>;
}

/**
 * The search library behind `embctl search`, the HTTP service and the
 * evaluation. A request resolves its version once; the query is embedded
 * with that version's own encoder (cached per version) and only that
 * version's partition is searched, with the expression its index was built
 * on: a result never mixes versions.
 */
export function createSearcher(db: Db, opts: SearcherOptions = {}): Searcher {
  const logger = (opts.logger ?? silentLogger()).child({ component: 'search' });
  const encoders = new Map<string, Promise<Encoder>>();
  const lists = new Map<number, Promise<number | undefined>>();
  let cachedActive: Promise<VersionRow | undefined> | undefined;
  /** Rows of the versions requests named, by key (watchActive only; not-found is not cached). */
  const cachedRows = new Map<string, Promise<VersionRow>>();
  const forgetVersions = () => {
    cachedActive = undefined;
    cachedRows.clear();
  };
  let watcher: VersionWatcher | undefined;
  let closed = false;

  if (opts.pinVersion) {
    logger.warn(
      { version: opts.pinVersion },
      `search is pinned to version ${opts.pinVersion} by EMBCTL_PIN_VERSION: the active flag is ignored until it is unset`,
    );
  }
  if (opts.watchActive && !opts.pinVersion) {
    watcher = watchVersionChanges(db, {
      logger,
      onEvent: (e) => {
        forgetVersions();
        if (e.kind === 'change')
          logger.info({ event: e.event, version: e.version, previous: e.previous }, 'version change received');
      },
    });
  }

  const active = (): Promise<VersionRow | undefined> => {
    // While the watcher is not receiving events (its connection is being
    // re-established), a cached value may be stale: read per request.
    if (!watcher?.connected()) {
      cachedActive = undefined;
      return activeVersion(db.kysely);
    }
    if (!cachedActive) {
      const p = activeVersion(db.kysely);
      cachedActive = p;
      p.catch(() => {
        if (cachedActive === p) cachedActive = undefined;
      });
    }
    return cachedActive;
  };

  const byKey = (key: string): Promise<VersionRow> => {
    if (!watcher?.connected()) {
      cachedRows.clear();
      return requireVersion(db.kysely, key);
    }
    let p = cachedRows.get(key);
    if (!p) {
      const read = requireVersion(db.kysely, key);
      cachedRows.set(key, read);
      read.catch(() => {
        if (cachedRows.get(key) === read) cachedRows.delete(key);
      });
      p = read;
    }
    return p;
  };

  const encoderFor = (v: VersionRow): Promise<Encoder> => {
    const key = `${v.id}:${v.encoder_identity}`;
    let e = encoders.get(key);
    if (!e) {
      e = opts.makeEncoder ? opts.makeEncoder(v) : encoderForVersion(v, { logger, ...opts.encoderDeps });
      encoders.set(key, e);
      e.catch(() => encoders.delete(key));
    }
    return e;
  };

  const listsOf = (v: VersionRow): Promise<number | undefined> => {
    if (v.index_kind !== 'ivfflat') return Promise.resolve(undefined);
    if (v.index_params.lists) return Promise.resolve(v.index_params.lists);
    let p = lists.get(v.id);
    if (!p) {
      p = ivfflatLists(db.kysely, v.id);
      lists.set(v.id, p);
    }
    return p;
  };

  async function searchOnce(
    req: Required<Pick<SearchRequest, 'query'>> & SearchRequest,
    k: number,
  ): Promise<SearchResult> {
    const t0 = performance.now();
    const resolved = await resolveVersion(db.kysely, req.version, opts.pinVersion, active, byKey);
    const v = resolved.row;
    const calibration = parseCalibration(v.calibration, v.version_key);
    if (req.minScore !== undefined && !calibration) {
      throw new InputError(
        `--min-score needs a calibration for version ${v.version_key}: raw scores are not comparable between models (0.85 from one is not 0.85 from another); run embctl versions calibrate ${v.version_key} first`,
      );
    }
    const t1 = performance.now();
    const encoder = await encoderFor(v);
    const [vec] = await encoder.embed([req.query], { label: `query for ${v.version_key}` });
    const dims = queryDimensions(v); // a derived version's query is embedded as its parent's, then transformed in SQL
    if (!vec || vec.length !== dims) {
      throw new RefusedError(
        `the encoder of version ${v.version_key} returned ${vec?.length ?? 0} dimensions for the query, expected ${dims}`,
      );
    }
    const rerank = derivationOf(v)?.rerank ?? 0;
    const t2 = performance.now();
    const hybrid = Boolean(req.hybrid);
    const limit = hybrid ? Math.min(MAX_K * HYBRID_CANDIDATES_PER_K, k * HYBRID_CANDIDATES_PER_K) : k;
    const filter = checkFilter(req.filters);
    const vector = new QueryVector(vec);
    const index = { kind: v.index_kind, lists: await listsOf(v) };
    // No transaction: the query carries its settings, made session settings
    // of whichever pooled connection runs it, only where they differ. On
    // Citus, a transaction: its SET LOCAL settings reach the shards' queries.
    const run = (conn: typeof db.kysely) =>
      runQuery(conn, {
        target: v,
        index,
        vector,
        limit,
        filter,
        knobs: {
          ...opts.knobs,
          ...(req.efSearch !== undefined && { efSearch: req.efSearch }),
          // A re-rank takes its K candidates from the index: the scan must be able to return them.
          ...(rerank > 0 && {
            efSearch: Math.min(1000, Math.max(req.efSearch ?? opts.knobs?.efSearch ?? DEFAULT_EF_SEARCH, rerank)),
          }),
          ...(req.probes !== undefined && { probes: req.probes }),
        },
        exact: Boolean(req.exact),
        text: hybrid ? { query: req.query, limit } : undefined,
      });
    const out = db.distributed ? await db.kysely.transaction().execute(run) : await run(db.kysely);
    if (out.vector.length === 0 && (out.text?.length ?? 0) === 0 && !(await hasVectors(db, v.id))) {
      // Zero hits from an empty partition is not an answer: the version was never backfilled.
      throw new RefusedError(
        `version ${v.version_key} has no vectors yet (it is not backfilled): run embctl backfill ${v.version_key}, or search another version`,
        [],
        { code: 'incomplete' },
      );
    }
    const t3 = performance.now();

    const toHit = (r: CandidateRow): SearchHit => {
      const score = scoreFromDistance(v.distance_metric, r.distance);
      return {
        version: v.version_key,
        chunkId: r.chunk_id,
        semanticKey: r.semantic_key,
        documentId: r.document_id,
        chunkNo: r.chunk_no,
        content: r.content,
        metadata: r.metadata,
        distance: r.distance,
        score,
        ...(calibration && { calibratedScore: applyCalibration(calibration, score) }),
      };
    };
    let hits: SearchHit[];
    if (hybrid) {
      hits = reciprocalRankFusion([out.vector, out.text], (r) => r.chunk_id, RRF_K).map((f) => ({
        ...toHit(f.item),
        fusedScore: f.score,
        vectorRank: f.ranks[0] ?? null,
        textRank: f.ranks[1] ?? null,
      }));
    } else {
      hits = out.vector.map(toHit);
    }
    let belowMinScore: number | undefined;
    if (req.minScore !== undefined) {
      const before = hits.length;
      hits = hits.filter((h) => (h.calibratedScore ?? -Infinity) >= req.minScore!);
      belowMinScore = before - hits.length;
    }
    hits = hits.slice(0, k);
    const t4 = performance.now();
    return {
      version: v.version_key,
      versionId: v.id,
      source: resolved.source,
      metric: v.distance_metric,
      mode: hybrid ? 'hybrid' : out.applied.exact ? 'exact' : 'ann',
      k,
      hits,
      ms: round(t4 - t0),
      timings: { resolveMs: round(t1 - t0), embedMs: round(t2 - t1), searchMs: round(t3 - t2) },
      ...(out.applied.efSearch !== undefined && { efSearch: out.applied.efSearch }),
      ...(out.applied.probes !== undefined && { probes: out.applied.probes }),
      ...(out.exactFallback && { exactFallback: out.exactFallback }),
      ...(belowMinScore !== undefined && { belowMinScore }),
    };
  }

  return {
    async search(req) {
      if (closed) throw new Error('searcher is closed');
      const k = checkRequest(req);
      try {
        try {
          return await searchOnce(req, k);
        } catch (e) {
          // The version was retired (its partition dropped) between resolving
          // it and querying: resolve again, once.
          if ((e as { code?: string }).code !== '42P01') throw e;
          forgetVersions();
          logger.info('partition vanished during a search (version retired); resolving the version again');
          return await searchOnce(req, k);
        }
      } catch (e) {
        // On a hot standby, a version just made on the primary may not be replayed yet: say so, retryably.
        throw await explainReplicaLag(db, e, req.version ?? opts.pinVersion);
      }
    },
    servingVersion: () => resolveVersion(db.kysely, undefined, opts.pinVersion, active, byKey),
    invalidateActive: forgetVersions,
    encoderOf: (v) => encoderFor(v),
    activeSource: () =>
      opts.pinVersion ? 'pinned' : !watcher ? 'per-request' : watcher.connected() ? 'listening' : 'reconnecting',
    async close() {
      if (closed) return;
      closed = true;
      await watcher?.close();
      const all = [...encoders.values()];
      encoders.clear();
      for (const e of all) await (await e.catch(() => undefined))?.close?.();
    },
  };
}

function checkRequest(req: SearchRequest): number {
  const problems: string[] = [];
  if (typeof req.query !== 'string' || req.query.trim() === '')
    problems.push('the query is empty: pass the text to search for');
  else if (req.query.includes('\u0000')) problems.push('the query contains a NUL character: remove it');
  if (req.filters !== undefined && req.filters !== null) {
    const p = jsonValueProblem(req.filters, 'filters', MAX_FILTER_DEPTH);
    if (p) problems.push(p);
  }
  const k = req.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K)
    problems.push(`k must be a whole number from 1 to ${MAX_K}, got ${String(req.k)}`);
  if (req.efSearch !== undefined && (!Number.isInteger(req.efSearch) || req.efSearch < 1 || req.efSearch > 1000))
    problems.push(`efSearch must be a whole number from 1 to 1000, got ${String(req.efSearch)}`);
  if (req.probes !== undefined && (!Number.isInteger(req.probes) || req.probes < 1 || req.probes > 32768))
    problems.push(`probes must be a whole number from 1 to 32768, got ${String(req.probes)}`);
  if (req.minScore !== undefined && !(Number.isFinite(req.minScore) && req.minScore >= 0 && req.minScore <= 1))
    problems.push(`minScore is a calibrated score from 0 to 1, got ${String(req.minScore)}`);
  if (problems.length)
    throw new InputError(
      problems.length === 1 ? problems[0]! : `invalid search (${problems.length} problems)`,
      problems.length > 1 ? problems : [],
    );
  return k;
}

async function hasVectors(db: Db, versionId: number): Promise<boolean> {
  const { rows } = await sql<{
    any: boolean;
  }>`select exists (select 1 from ${sql.raw(partitionTable(versionId))}) as any`.execute(db.kysely);
  return Boolean(rows[0]?.any);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
