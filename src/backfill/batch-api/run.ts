/**
 * `backfill <key> --batch-api`: one pass picks up every recorded job where it
 * stands (local steps finished, remote status refreshed, finished jobs
 * collected), writes what identical encoders already embedded, and submits
 * the texts still to embed within the limits. `wait` repeats passes with
 * backoff until nothing is left. Texts out of batch attempts go to the online
 * path or are set aside; when every chunk is covered, the online backfill's
 * finish (index, ANALYZE, `ready`) runs.
 */
import { hostname } from 'node:os';
import type { Db } from '../../db/index.js';
import {
  BatchApiUnsupportedError,
  createOpenAIBatchApi,
  parseEncoderSpec,
  type EncoderSettings,
  type OpenAIBatchApi,
} from '../../encoders/index.js';
import { InputError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { partitionTable } from '../../partitions/index.js';
import { encoderForVersion, requireVersion, type VersionRow } from '../../versions/index.js';
import { isProcessAlive, sleep as defaultSleep, workerNonce } from '../../util/index.js';
import { costOf, pricePerMillion, BATCH_API_PRICE_FACTOR } from '../pricing.js';
import { runBackfill } from '../run.js';
import type { BackfillDeps } from '../types.js';
import { missingChunks } from '../worker.js';
import { collectJob } from './collect.js';
import { pendingTexts, planFiles, type PendingText } from './files.js';
import { writeReusable } from './reuse.js';
import { exhaustedTexts, listJobs, recordRemote, setStatus, type JobRow } from './store.js';
import { advanceJob, recordJobs, type SubmitContext } from './submit.js';
import { epoch, markStarted, report, viewOf } from './progress.js';
import { DEFAULT_LIMITS, type BatchApiOptions, type BatchApiPlan, type BatchApiSummary } from './types.js';
import { sql } from 'kysely';

export interface BatchApiDeps extends BackfillDeps {
  /** Test seam: this client instead of one made from the version's settings. */
  batchApi?: OpenAIBatchApi;
}

/** Refuses a version whose encoder is not `openai:`; makes its Batch API client. */
/**
 * Not on a Citus cluster yet: the Batch API's planner, its reuse and its
 * accounting pair chunks by their text's sha256 in correlated subqueries
 * and a LATERAL join, which Citus cannot plan across shards. Refused before
 * anything is read or sent.
 */
function refuseOnCitus(db: Db, key: string): void {
  if (db.distributed) {
    throw new RefusedError(
      `backfill --batch-api does not run on a Citus cluster yet: run embctl backfill ${key} without --batch-api (the online path), or run the Batch API backfill against a single PostgreSQL server`,
    );
  }
}

function batchApiFor(v: VersionRow, deps: BatchApiDeps): OpenAIBatchApi {
  const { provider, model } = parseEncoderSpec(v.encoder_spec);
  if (provider !== 'openai') {
    throw new UsageError(
      `--batch-api needs an openai: encoder, and version ${v.version_key} uses ${v.encoder_spec}: run \`embctl backfill ${v.version_key}\` without --batch-api`,
    );
  }
  if (deps.batchApi) return deps.batchApi;
  const settings = v.encoder_settings as EncoderSettings;
  return createOpenAIBatchApi({
    model,
    dimensions: settings.dimensions,
    baseURL: settings.baseURL ?? deps.openaiBaseUrl,
    apiKey: deps.openaiApiKey,
    logger: deps.logger,
    env: deps.env,
    fetch: deps.fetch,
  });
}

function limitsOf(opts: BatchApiOptions) {
  const l = { ...DEFAULT_LIMITS, ...opts.limits };
  for (const [k, n] of Object.entries(l)) {
    if (!Number.isInteger(n) || n < 1) throw new InputError(`batch limit ${k} must be a positive integer, not ${n}`);
  }
  if (l.inputsPerRequest > 2048)
    throw new InputError(`--batch-inputs-per-request is at most 2048, not ${l.inputsPerRequest}`);
  return l;
}

/** Turn "no Batch API here" into the line that says what to do instead. */
async function supported<T>(key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BatchApiUnsupportedError) {
      throw new InputError(
        `${e.message}: run \`embctl backfill ${key}\` without --batch-api to embed online; nothing was submitted`,
      );
    }
    throw e;
  }
}

/**
 * What a batch backfill would submit now: files, tokens, cost at batch and
 * online prices. Writes nothing; its one remote call checks Batch support.
 */
export async function planBatchBackfill(
  db: Db,
  key: string,
  opts: BatchApiOptions,
  deps: BatchApiDeps,
): Promise<BatchApiPlan> {
  refuseOnCitus(db, key);
  const v = await requireVersion(db.kysely, key);
  if (v.state === 'retired') throw new RefusedError(`version ${key} is retired: register a new version instead`);
  const api = batchApiFor(v, deps);
  const limits = limitsOf(opts);
  // One read-only call, as the real run makes first: a base URL without Batch support fails here, not later.
  await supported(key, () => api.probe(opts.signal));
  const encoder = deps.encoder ?? (await encoderForVersion(v, deps));
  try {
    const texts = (await pendingTexts(db.kysely, v, opts.maxAttempts ?? 3, 10_000_000)).map((t) => ({
      ...t,
      tokens: encoder.countTokens(t.content),
    }));
    const files = planFiles(texts, { ...limits, maxRequestTokens: encoder.maxBatchTokens }, Infinity, (t) =>
      api.requestBody(t),
    );
    const tokens = texts.reduce((a, t) => a + t.tokens, 0);
    const price = pricePerMillion(v.encoder_name, opts.pricePerMillion);
    const b = await sql<{ n: number }>`
      select count(distinct c.content_sha256) as n from document_chunks c
      where c.retired_at is null and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(
      db.kysely,
    );
    const live = await listJobs(db.kysely, v.id, { open: true });
    return {
      version: v.version_key,
      encoder: v.encoder_spec,
      files: files.length,
      requests: files.reduce((a, f) => a + f.requests.length, 0),
      texts: texts.length,
      tokens,
      reusable: Math.max(0, Number(b.rows[0]?.n ?? 0) - texts.length - live.reduce((a, j) => a + j.texts, 0)),
      liveJobs: live.length,
      pricePerMillion: price ?? null,
      batchCostUsd: price === undefined ? null : costOf(tokens, price * BATCH_API_PRICE_FACTOR),
      onlineCostUsd: price === undefined ? null : costOf(tokens, price),
    };
  } finally {
    if (!deps.encoder) await encoder.close?.();
  }
}

export async function runBatchBackfill(
  db: Db,
  key: string,
  opts: BatchApiOptions,
  deps: BatchApiDeps,
): Promise<BatchApiSummary> {
  const started = performance.now();
  refuseOnCitus(db, key);
  const v = await requireVersion(db.kysely, key);
  if (v.state === 'retired') throw new RefusedError(`version ${key} is retired: register a new version instead`);
  const api = batchApiFor(v, deps);
  const limits = limitsOf(opts);
  const maxAttempts = opts.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new InputError(`--batch-attempts must be 1 or more`);
  const policy = opts.exhausted ?? 'online';
  const price = pricePerMillion(v.encoder_name, opts.pricePerMillion);
  const batchPrice = price === undefined ? undefined : price * BATCH_API_PRICE_FACTOR;
  const encoder = deps.encoder ?? (await encoderForVersion(v, deps));
  const host = hostname();
  const log = deps.logger.child({ version: key, batchApi: true });
  const ctx: SubmitContext = {
    db: db.kysely,
    version: v,
    api,
    logger: log,
    worker: `${host}:${process.pid}:${workerNonce()}`,
    host,
    isAlive: isProcessAlive,
    signal: opts.signal,
    actor: deps.actor,
  };
  const collectCtx = {
    db: db.kysely,
    version: v,
    api,
    logger: log,
    setAsideAt: policy === 'set-aside' ? maxAttempts : null,
  };
  const partition = partitionTable(v.id);
  const s: BatchApiSummary = {
    version: key,
    submitted: 0,
    collected: 0,
    textsWritten: 0,
    chunksWritten: 0,
    reused: 0,
    billedTokens: 0,
    costUsd: 0,
    cancelled: 0,
    released: [],
    jobs: [],
    textsLeft: 0,
    exhausted: 0,
    setAside: 0,
    problems: [],
    online: null,
    complete: false,
    state: v.state,
    seconds: 0,
  };
  const sleep = opts.sleep ?? defaultSleep;
  try {
    await supported(key, () => api.probe(opts.signal));
    let wait = opts.pollMs ?? 5000;
    for (;;) {
      const before = s.textsWritten + s.submitted + s.collected;
      const open = await supported(key, () =>
        pass(ctx, collectCtx, opts, s, limits, maxAttempts, encoder.countTokens, encoder.maxBatchTokens),
      );
      report(opts, s, open, started, batchPrice);
      if (!opts.wait || opts.signal?.aborted) break;
      if (open.length === 0 && s.textsLeft === 0) break;
      const changed = s.textsWritten + s.submitted + s.collected !== before;
      wait = changed ? (opts.pollMs ?? 5000) : Math.min(opts.maxPollMs ?? 60_000, Math.round(wait * 1.5));
      await sleep(wait, opts.signal).catch(() => {});
      if (opts.signal?.aborted) break;
    }
    const open = await listJobs(db.kysely, v.id, { open: true });
    const ex = await exhaustedTexts(db.kysely, v.id, partition, maxAttempts);
    s.exhausted = ex.exhausted;
    s.setAside = ex.setAside;
    const missing = await missingChunks(db.kysely, partition);
    const takeOnline = policy === 'online' && ex.exhausted > 0;
    if (
      !opts.cancel &&
      !opts.signal?.aborted &&
      open.length === 0 &&
      s.textsLeft === 0 &&
      (takeOnline || missing === 0)
    ) {
      // The online path: texts out of batch attempts, and the finish (index, ANALYZE, ready).
      s.online = await runBackfill(
        db,
        key,
        { workers: opts.workers ?? 2, pricePerMillion: opts.pricePerMillion, signal: opts.signal, index: opts.index },
        { ...deps, encoder },
      );
      if (s.online.complete) s.exhausted = 0;
    }
    s.complete = (await missingChunks(db.kysely, partition)) === 0;
    s.jobs = (await listJobs(db.kysely, v.id)).map(viewOf);
    s.state = (await requireVersion(db.kysely, key)).state;
    s.costUsd = costOf(s.billedTokens, batchPrice);
    s.seconds = Math.round((performance.now() - started) / 10) / 100;
    return s;
  } finally {
    if (!deps.encoder) await encoder.close?.();
  }
}

/** One pass over the version's jobs, then new submissions. Returns the jobs still open. */
async function pass(
  ctx: SubmitContext,
  collectCtx: Parameters<typeof collectJob>[0],
  opts: BatchApiOptions,
  s: BatchApiSummary,
  limits: typeof DEFAULT_LIMITS,
  maxAttempts: number,
  countTokens: (t: string) => number,
  maxRequestTokens: number,
): Promise<JobRow[]> {
  const { db, version: v, api } = ctx;
  const missing: string[] = [];
  for (const job of await listJobs(db, v.id, { open: true })) {
    if (['preparing', 'uploaded', 'creating'].includes(job.status)) {
      if (opts.cancel) {
        // Nothing remote yet (or, for `creating`, only if no batch was made from its file): its texts are free again.
        const made =
          job.status === 'creating'
            ? await api.find(
                { inputFileId: job.input_file_id ?? undefined, tag: job.tag },
                epoch(job.created_at),
                opts.signal,
              )
            : null;
        if (made) await recordRemote(db, job.id, made);
        else {
          await setStatus(db, job.id, 'collected');
          s.cancelled++;
        }
        continue;
      }
      const b = await advanceJob(ctx, job);
      if (b && job.status !== 'creating') s.submitted++;
      continue;
    }
    if (!job.batch_id) continue;
    let b = await api.retrieve(job.batch_id, opts.signal);
    if (!b) {
      if (opts.cancel) {
        // The user says it is gone for good: its texts are free for a new batch.
        await setStatus(db, job.id, 'collected');
        s.released.push(
          `batch ${job.batch_id}: ${api.baseURLHost} does not know it; its ${job.texts} texts were released for a new batch`,
        );
      } else missing.push(job.batch_id);
      continue;
    }
    if (opts.cancel && (b.status === 'validating' || b.status === 'in_progress')) {
      b = (await api.cancel(job.batch_id, opts.signal)) ?? b;
      s.cancelled++;
    }
    await recordRemote(db, job.id, b);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) {
      const fresh = (await listJobs(db, v.id, { open: true })).find((j) => j.id === job.id);
      if (!fresh) continue;
      const c = await collectJob(collectCtx, fresh);
      s.textsWritten += c.texts;
      s.chunksWritten += c.chunks;
      s.billedTokens += c.billedTokens;
      s.problems.push(...c.problems);
      if (c.done) s.collected++;
    }
  }
  if (missing.length > 0) {
    throw new NotFoundError(
      `${api.baseURLHost} says batch ${missing.join(', ')} of version ${v.version_key} does not exist: check that OPENAI_API_KEY belongs to the project that submitted it; nothing was changed, and its texts stay reserved for it (if it is gone for good, embctl backfill ${v.version_key} --batch-api --cancel releases them)`,
    );
  }
  if (!opts.cancel) {
    const reused = await writeReusable(db, collectCtx.version);
    s.reused += reused.texts;
    s.chunksWritten += reused.chunks;
    const open = await listJobs(db, v.id, { open: true });
    const budget = limits.enqueuedTokens - open.reduce((a, j) => a + j.tokens, 0);
    const want = Math.min(limits.inputsPerFile * 20, 1_000_000);
    const texts: PendingText[] = (await pendingTexts(db, v, maxAttempts, want)).map((t) => ({
      ...t,
      tokens: countTokens(t.content),
    }));
    const files =
      budget > 0 ? planFiles(texts, { ...limits, maxRequestTokens }, budget, (t) => api.requestBody(t)) : [];
    if (files.length === 0 && texts.length > 0 && open.length === 0) {
      throw new InputError(
        `the enqueued-token limit (${limits.enqueuedTokens}) is below one request of ${limits.inputsPerRequest} texts: raise --batch-max-enqueued-tokens or lower --batch-inputs-per-request`,
      );
    }
    if (files.length > 0) {
      await markStarted(ctx, s, files.length);
      const ids = await recordJobs(ctx, files, async (trx, shas) => {
        const again = await pendingTexts(trx, v, maxAttempts, want);
        const set = new Set(again.map((t) => t.sha.toString('hex')));
        return new Set(shas.map((x) => x.toString('hex')).filter((h) => set.has(h)));
      });
      for (const job of await listJobs(db, v.id, { open: true })) {
        if (ids.includes(job.id) && (await advanceJob(ctx, job))) s.submitted++;
      }
    }
    s.textsLeft = Math.max(0, texts.length - files.reduce((a, f) => a + f.texts, 0));
  }
  return listJobs(db, v.id, { open: true });
}
