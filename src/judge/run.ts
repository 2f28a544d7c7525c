/**
 * Judge the pool: batches of pairs go to the judge through the backfill's
 * quota (concurrency, RPM/TPM buckets, Retry-After pauses); each batch's
 * verdicts are stored as soon as they come back, so a crash or SIGINT loses
 * at most the pairs in flight. A budget (--max-pairs, --max-cost) stops the
 * run cleanly between batches: what was judged is kept, and the summary
 * says why it stopped.
 */
import type { Kysely } from 'kysely';
import { Quota } from '../backfill/index.js';
import type { DB } from '../db/index.js';
import type { Judge, JudgePair, JudgeVerdict } from '../judges/index.js';
import type { KeyKind } from '../judged-set/index.js';
import { insertJudgments, type NewJudgment } from '../judgments/index.js';
import type { OnProgress, Progress } from '../util/index.js';
import { addCost, costOfPairs, NO_COST, type JudgeCost } from './cost.js';
import type { PoolPair } from './pool.js';

export interface JudgeProgress extends Progress {
  phase: 'judging';
  done: number;
  total: number;
  failed: number;
  cost: JudgeCost;
  rateLimited: number;
  pairsPerSecond: number;
  etaSeconds: number | null;
}

/** Distinct failure reasons kept for the summary. */
const MAX_REASONS = 5;

export type StopReason = 'max-pairs' | 'max-cost' | 'interrupted';

export interface JudgeRunSummary {
  /** Pairs graded and stored. */
  graded: number;
  /** Pairs the judge could not grade, stored with the reason. */
  failed: number;
  /** Pairs left unjudged because the run stopped early. */
  left: number;
  stoppedBy: StopReason | null;
  cost: JudgeCost;
  seconds: number;
  rateLimited: number;
  /** The distinct failure reasons (at most 5), each with how many pairs it failed when more than one. */
  failures: string[];
}

export interface JudgeLimits {
  /** Judge calls in flight (default 4 for a remote judge, 1 for a local one). */
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  maxPairs?: number;
  /** USD; the run stops before a batch that would pass it. */
  maxCost?: number;
  /** Stop taking batches (SIGINT): batches in flight finish and are stored. */
  signal?: AbortSignal;
  /** Abort the batches in flight too (a second SIGINT, a grace period over); default: `signal`. */
  hardSignal?: AbortSignal;
  onProgress?: OnProgress<JudgeProgress>;
}

export interface JudgeRunOptions extends JudgeLimits {
  judge: Judge;
  keyKind: KeyKind;
  pairs: readonly PoolPair[];
  /** key -> the text the judge reads. */
  passages: ReadonlyMap<string, string>;
  actor: string;
}

/** Judge the pool and store every verdict (a grade, or the failure) as its batch comes back. */
export async function judgePool(db: Kysely<DB>, o: JudgeRunOptions): Promise<JudgeRunSummary> {
  const texts = o.pairs.map((p) => ({ query: p.queryText, passage: o.passages.get(p.key) ?? '' }));
  return judgeBatches(o.judge, texts, o, async (from, verdicts) => {
    const rows: NewJudgment[] = verdicts.map((v, i) => {
      const p = o.pairs[from + i]!;
      return {
        querySha256: p.querySha256,
        queryText: p.queryText,
        keyKind: o.keyKind,
        key: p.key,
        judge: o.judge.identity,
        grade: v.ok ? v.grade : null,
        raw: v.ok ? v.raw : null,
        failure: v.ok ? null : v.reason,
        actor: o.actor,
      };
    });
    await insertJudgments(db, rows);
  });
}

/**
 * The loop under every judging run: batches through the quota, a budget
 * checked before each batch, `onBatch(first index, verdicts)` after each.
 */
export async function judgeBatches(
  judge: Judge,
  all: readonly JudgePair[],
  o: JudgeLimits,
  onBatch: (from: number, verdicts: JudgeVerdict[]) => Promise<void>,
): Promise<JudgeRunSummary> {
  const started = performance.now();
  let stoppedBy: StopReason | null = null;
  let todo = all;
  if (o.maxPairs !== undefined && todo.length > o.maxPairs) {
    todo = todo.slice(0, o.maxPairs);
    stoppedBy = 'max-pairs';
  }
  const batches: number[] = [];
  for (let i = 0; i < todo.length; i += judge.maxBatchPairs) batches.push(i);
  const maxConcurrency = o.concurrency ?? (judge.pricing ? 4 : 1);
  const quota = new Quota({ rpm: o.rpm, tpm: o.tpm, maxConcurrency });
  let spent: JudgeCost = NO_COST;
  let reserved = 0;
  let graded = 0;
  let failed = 0;
  let next = 0;
  const failures = new Map<string, number>();
  let firstError: unknown;

  const progress = () => {
    const done = graded + failed;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    o.onProgress?.({
      phase: 'judging',
      done,
      total: todo.length,
      failed,
      cost: spent,
      rateLimited: quota.stats.rateLimited,
      pairsPerSecond: rate,
      etaSeconds: rate > 0 ? (todo.length - done) / rate : null,
    });
  };

  const worker = async () => {
    while (next < batches.length && !stoppedEarly() && firstError === undefined) {
      const from = batches[next]!;
      const texts = todo.slice(from, from + judge.maxBatchPairs);
      const cost = costOfPairs(judge, texts);
      if (o.maxCost !== undefined && spent.usd + reserved + cost.usd > o.maxCost + 1e-12) {
        stoppedBy = 'max-cost';
        return;
      }
      next++;
      reserved += cost.usd;
      let release: (() => void) | undefined;
      try {
        const hard = o.hardSignal ?? o.signal;
        release = await quota.acquire(cost.inputTokens, hard);
        const verdicts = await judge.judge(texts, {
          signal: hard,
          onEvent: (e) => {
            if (e.type === 'rate_limited') quota.onRateLimited(e.retryAfterMs);
          },
        });
        quota.onSuccess();
        await onBatch(from, verdicts);
        for (const v of verdicts) {
          if (v.ok) graded++;
          else {
            failed++;
            failures.set(v.reason, (failures.get(v.reason) ?? 0) + 1);
          }
        }
        spent = addCost(spent, cost);
        progress();
      } catch (e) {
        if ((o.hardSignal ?? o.signal)?.aborted) stoppedBy = 'interrupted';
        else firstError ??= e;
      } finally {
        reserved -= cost.usd;
        release?.();
      }
    }
  };
  const stoppedEarly = () => o.signal?.aborted === true || stoppedBy === 'max-cost';

  const workers = Math.max(1, Math.min(maxConcurrency, batches.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (o.signal?.aborted) stoppedBy = 'interrupted';
  if (firstError !== undefined) throw firstError;
  return {
    graded,
    failed,
    left: all.length - graded - failed,
    stoppedBy,
    cost: spent,
    seconds: (performance.now() - started) / 1000,
    rateLimited: quota.stats.rateLimited,
    failures: [...failures].slice(0, MAX_REASONS).map(([reason, n]) => (n > 1 ? `${reason} (${n} pairs)` : reason)),
  };
}
