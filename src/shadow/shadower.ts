import type { Db } from '../db/index.js';
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import { currentShadow, type ShadowTarget } from './config.js';
import { findVersionId, versionKeysById } from '../versions/index.js';
import { agreement } from './agreement.js';
import { addShadowDrops, insertShadowQuery } from './record.js';
import { sampled } from './sampling.js';
import { HandoffQueue } from './handoff-queue.js';
import { DropCounter } from './drop-counter.js';

/**
 * Runs one query on one version: `ids` are chunk ids in rank order, `ms`
 * the time the search took. It embeds the query with that version's own
 * encoder. `params` are the primary request's options (filters, hybrid...),
 * passed through unchanged so the candidate answers the same question.
 */
export type SearchFn = (
  versionKey: string,
  query: string,
  k: number,
  signal?: AbortSignal,
  params?: Readonly<Record<string, unknown>>,
) => Promise<{ ids: number[]; ms: number }>;

export interface ShadowerOptions {
  search: SearchFn;
  logger?: Logger;
  /** Candidate queries waiting for a worker; beyond it they are dropped. Default 1000. */
  queueSize?: number;
  /** Concurrent candidate searches. Default 2. */
  workers?: number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
  /** How often the shadow config is re-read in the background. Default 5000 ms. */
  refreshMs?: number;
  /** Per candidate search. Default 30000 ms. */
  candidateTimeoutMs?: number;
  /**
   * True while the process is serving primary requests: candidate searches
   * wait for idle time, so shadowing uses spare capacity instead of
   * competing with the primary for the CPU.
   */
  busy?: () => boolean;
  /** A sampled query still waiting after this long is dropped (and counted). Default 10000 ms. */
  maxQueueAgeMs?: number;
  /** Overrides the configured sample rate in this process (0 turns shadowing off here). */
  sampleRate?: number;
}

/** What a serving process knows once it has answered a query. */
export interface PrimaryResult {
  query: string;
  segment?: string | null;
  /** Key of the version that served the query. */
  primaryVersion: string;
  /** The chunk ids returned to the caller, in rank order (copied, never modified). */
  primaryIds: readonly number[];
  primaryMs: number;
  /** The K the caller asked for, when smaller than the shadow's K. */
  k?: number;
  /** The request's search options, handed to the SearchFn as they are. */
  params?: Readonly<Record<string, unknown>>;
}

export interface ShadowStats {
  /** Queries accepted for a candidate search. */
  enqueued: number;
  /** Candidate searches finished and logged. */
  completed: number;
  /** Sampled queries not run: queue full, or abandoned at close. */
  dropped: number;
  /** Candidate searches or writes that failed. */
  failed: number;
  /** Waiting in the queue now. */
  queueDepth: number;
  /** Being searched or written now. */
  inFlight: number;
  /** Queries seen by afterPrimary while a shadow was configured. */
  seen: number;
  /** The candidate shadowed, as last read from the database. */
  candidate: string | null;
  sampleRate: number;
}

export interface Shadower {
  /**
   * Call after the primary's results have been returned. Synchronous, never
   * throws, never touches the database or the caller's results: it samples
   * and enqueues, or drops when the queue is full.
   */
  afterPrimary(result: PrimaryResult): void;
  /** Re-read the shadow config now (e.g. right after shadow start/stop). */
  refresh(): Promise<ShadowTarget | null>;
  stats(): ShadowStats;
  /** Stop sampling, let the queue drain for up to `timeoutMs` (default 5000), then abort the rest. Safe twice. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

interface Job {
  query: string;
  segment: string | null;
  primaryVersion: string;
  primaryIds: number[];
  primaryMs: number;
  k: number;
  params: Readonly<Record<string, unknown>> | undefined;
  target: ShadowTarget;
  /** When it was sampled (performance.now()). */
  at: number;
}

export function createShadower(db: Db, opts: ShadowerOptions): Shadower {
  const logger = (opts.logger ?? silentLogger()).child({ component: 'shadow' });
  const workerCount = Math.max(1, opts.workers ?? 2);
  const random = opts.random ?? Math.random;
  const refreshMs = opts.refreshMs ?? 5000;
  const timeoutMs = opts.candidateTimeoutMs ?? 30_000;

  const counters = { enqueued: 0, completed: 0, seen: 0, samplingFailed: 0 };
  const drops = new DropCounter();
  const note = (t: ShadowTarget, kind: 'dropped' | 'failed') => drops.note(t.versionId, kind);
  const flushDrops = () => drops.flush((id, c) => addShadowDrops(db.kysely, id, c.dropped, c.failed));
  const queue = new HandoffQueue<Job>(opts.queueSize ?? 1000);
  const versionIds = new Map<string, number>();
  const abort = new AbortController();
  let target: ShadowTarget | null = null;
  let loadedAt = -Infinity;
  let refreshing: Promise<ShadowTarget | null> | null = null;
  let closing: Promise<void> | null = null;

  function refresh(): Promise<ShadowTarget | null> {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        await flushDrops();
        const t = await currentShadow(db.kysely);
        for (const [id, key] of await versionKeysById(db.kysely)) versionIds.set(key, id);
        if (t?.versionKey !== target?.versionKey || t?.sampleRate !== target?.sampleRate) {
          logger.info(
            { candidate: t?.versionKey ?? null, sampleRate: t?.sampleRate ?? 0, k: t?.k },
            'shadow configuration',
          );
        }
        target = t;
        return t;
      } catch (e) {
        // Keep serving with the last known configuration.
        logger.warn({ err: (e as Error).message }, 'cannot read the shadow configuration; keeping the last one');
        return target;
      } finally {
        loadedAt = Date.now();
        refreshing = null;
      }
    })();
    return refreshing;
  }

  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref?.();
  void refresh();

  function afterPrimary(r: PrimaryResult): void {
    try {
      if (closing) return;
      if (Date.now() - loadedAt > refreshMs * 2) void refresh(); // the timer fell behind; never awaited
      const t = target;
      if (!t) return;
      counters.seen++;
      if (r.primaryVersion === t.versionKey) return; // the candidate now serves: nothing to compare
      if (!sampled(opts.sampleRate ?? t.sampleRate, random)) return;
      const k = Math.min(t.k, r.k ?? t.k);
      if (!(k >= 1)) return;
      const job: Job = {
        query: String(r.query),
        segment: r.segment ?? null,
        primaryVersion: r.primaryVersion,
        primaryIds: Array.from(r.primaryIds).slice(0, k).map(Number),
        primaryMs: Number(r.primaryMs),
        k,
        params: r.params,
        target: t,
        at: performance.now(),
      };
      if (queue.offer(job) === 'full') note(t, 'dropped');
      else counters.enqueued++;
    } catch (e) {
      // Shadowing must never fail the request it follows.
      counters.samplingFailed++;
      logger.warn({ err: (e as Error).message }, 'shadow sampling failed');
    }
  }

  async function run(job: Job): Promise<void> {
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
    const log = logger.child({ candidate: job.target.versionKey });
    try {
      const res = await opts.search(job.target.versionKey, job.query, job.k, signal, job.params);
      if (abort.signal.aborted) {
        note(job.target, 'dropped');
        return;
      }
      const candidateIds = res.ids.slice(0, job.k).map(Number);
      const primaryVersionId = await versionId(job.primaryVersion);
      await insertShadowQuery(db.kysely, {
        query: job.query,
        storeText: job.target.storeQueryText,
        segment: job.segment,
        primaryVersionId,
        candidateVersionId: job.target.versionId,
        k: job.k,
        primaryIds: job.primaryIds,
        candidateIds,
        agreement: agreement(job.primaryIds, candidateIds, job.k),
        primaryMs: job.primaryMs,
        candidateMs: Number(res.ms),
      });
      counters.completed++;
    } catch (e) {
      if (abort.signal.aborted) {
        note(job.target, 'dropped');
        return;
      }
      note(job.target, 'failed');
      log.warn({ err: (e as Error).message }, 'shadow query failed');
    }
  }

  async function versionId(key: string): Promise<number> {
    const known = versionIds.get(key);
    if (known !== undefined) return known;
    const id = await findVersionId(db.kysely, key);
    if (id === undefined) throw new Error(`unknown primary version ${key}`);
    versionIds.set(key, id);
    return id;
  }

  const maxAge = opts.maxQueueAgeMs ?? 10_000;
  const workers = Array.from({ length: workerCount }, async () => {
    for (;;) {
      const job = await queue.take();
      if (!job) return;
      try {
        // Spare capacity only: wait while the primary is serving.
        while (opts.busy?.() && !closing && performance.now() - job.at < maxAge) {
          await new Promise((r) => setTimeout(r, 2));
        }
        if (performance.now() - job.at >= maxAge && !closing) {
          note(job.target, 'dropped');
          continue;
        }
        await run(job);
      } finally {
        queue.done();
      }
    }
  });

  function close(o: { timeoutMs?: number } = {}): Promise<void> {
    if (closing) return closing;
    closing = (async () => {
      clearInterval(timer);
      queue.close();
      const drained = Promise.all(workers).then(() => true);
      let t: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        t = setTimeout(() => resolve(false), o.timeoutMs ?? 5000);
      });
      const ok = await Promise.race([drained, timedOut]);
      clearTimeout(t);
      if (!ok) {
        for (const j of queue.clear()) note(j.target, 'dropped');
        abort.abort(new Error('shadower closed'));
        logger.warn({ inFlight: queue.inFlight }, 'shadow queue not drained in time; abandoned the rest');
        await Promise.all(workers);
      }
      await refreshing?.catch(() => {});
      await flushDrops().catch((e) => logger.warn({ err: (e as Error).message }, 'could not store shadow drop counts'));
    })();
    return closing;
  }

  return {
    afterPrimary,
    refresh,
    stats: () => ({
      enqueued: counters.enqueued,
      completed: counters.completed,
      dropped: drops.totals.dropped,
      failed: drops.totals.failed + counters.samplingFailed,
      seen: counters.seen,
      queueDepth: queue.depth,
      inFlight: queue.inFlight,
      candidate: target?.versionKey ?? null,
      sampleRate: target ? (opts.sampleRate ?? target.sampleRate) : 0,
    }),
    close,
  };
}
