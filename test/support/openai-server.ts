/**
 * A local OpenAI-compatible server for tests and benchmarks: embeddings
 * (here) and chat completions (openai-server-chat.ts, a stand-in LLM judge).
 *
 * `POST /v1/embeddings` answers like the real API: deterministic unit vectors
 * derived from the text (same model + text → same vector), `usage`, `index`,
 * float JSON or base64 (little-endian float32). It can enforce a bearer key,
 * RPM/TPM limits over a sliding window (429 + `Retry-After`, `retry-after-ms`
 * and `x-ratelimit-*`), add latency, and inject faults into chosen requests.
 * Listens on 127.0.0.1, random port; never talks to the network.
 *
 * `POST /v1/chat/completions` answers `{"grade": N}` from a pluggable grader
 * (default: word overlap of the Query: and Passage: lines of the prompt, see
 * openai-server-grader.ts), behind the same key, with its own RPM/TPM window
 * (`chat.rpm`, `chat.tpm`), fault rules (`server.chat.setFaults`: 5xx, 429,
 * prose, out-of-range grades) and per-pair call counters.
 *
 * `/v1/files` and `/v1/batches` are the Files and Batch APIs for
 * `/v1/embeddings` (openai-server-files.ts, openai-server-batches.ts), with
 * the batch state machine driven by the test (`server.batches.advance`) or
 * by a timer (`batch.autoAdvanceMs`), per-custom-id and per-text counters
 * (`stats.batch`), and prices (`server.cost()`: batch at half the online
 * price). `batch: false` answers 404 there (a base URL without Batch support).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createChatEndpoint, type ChatEndpoint, type ChatOptions } from './openai-server-chat.js';
import { checkAuth, errorBody, send } from './openai-server-http.js';
import { applyDrift, type Drift } from './openai-server-drift.js';
import { shuffledOrder, toBase64, type BatchContext } from './openai-server-batch-body.js';
import {
  BatchStore,
  newBatchStats,
  type BatchFault,
  type BatchFaultRule,
  type BatchObject,
  type BatchOptions,
  type BatchStats,
} from './openai-server-batches.js';
import { costReport, DEFAULT_PRICES, priceOf, type CostReport, type ModelPrice } from './openai-server-cost.js';
import { FileStore, handleFiles, type FileObject } from './openai-server-files.js';

export type {
  BatchError,
  BatchFault,
  BatchFaultRule,
  BatchInfo,
  BatchObject,
  BatchOptions,
  BatchStats,
  BatchStatus,
} from './openai-server-batches.js';
export { DEFAULT_PRICES, type CostReport, type ModelPrice } from './openai-server-cost.js';
export type { FileObject } from './openai-server-files.js';
export { fromBase64 } from './openai-server-batch-body.js';

export type {
  ChatEndpoint,
  ChatFault,
  ChatFaultRule,
  ChatOptions,
  ChatRecord,
  ChatStats,
} from './openai-server-chat.js';
export { applyDrift, type Drift } from './openai-server-drift.js';
export { defaultGrader, findPair, messageText, overlapGrade, pairKey } from './openai-server-grader.js';
export type { ChatMessage, GradeContext, Grader } from './openai-server-grader.js';

export type Fault =
  /** Answer this status with an OpenAI-style error body (429 may carry a Retry-After in seconds). */
  | { kind: 'status'; status: number; retryAfterSeconds?: number | string; retryAfterMs?: number; message?: string }
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** Return vectors of this many dimensions instead of the requested ones. */
  | { kind: 'wrong-dimensions'; dimensions: number }
  /** Put NaN (base64) or null (float JSON, which JSON cannot spell NaN) into one vector. */
  | { kind: 'nan'; item?: number }
  /** Put +Infinity into one vector (base64 bytes, or `1e999` in float JSON). */
  | { kind: 'infinity'; item?: number }
  /** Return fewer items than inputs. */
  | { kind: 'short-list'; drop?: number }
  /** Return the items in a shuffled order (each still carries its right `index`). */
  | { kind: 'shuffle' }
  /** Duplicate one index (and drop another), so the count still matches. */
  | { kind: 'duplicate-index' }
  /** 200 with a truncated JSON body. */
  | { kind: 'malformed-json' }
  /** Extra latency for this request only. */
  | { kind: 'delay'; ms: number };

export interface RequestInfo {
  /** 1-based number of this request among all embeddings requests. */
  n: number;
  model: string;
  texts: string[];
  tokens: number;
}

export interface FaultRule {
  fault: Fault;
  /** How many matching requests get this fault (default 1; Infinity for all). */
  times?: number;
  /** Only requests for which this returns true (default: every request). */
  match?: (req: RequestInfo) => boolean;
}

export interface RequestRecord {
  n: number;
  at: number;
  model: string;
  items: number;
  tokens: number;
  status: number;
  dimensions: number;
  encodingFormat: 'float' | 'base64';
  fault?: Fault['kind'];
  /** On a 429 or injected status: the wait asked for, in ms (retry-after-ms, else Retry-After seconds). */
  retryAfterMs?: number;
  /** The texts of the request (kept so tests can check batches). */
  texts: string[];
}

export interface ServerStats {
  /** POST /v1/embeddings requests received (any outcome). */
  requests: number;
  /** Requests answered 200 with vectors (billed). */
  ok: number;
  /** Requests answered 429 by the rate limiter or a fault. */
  rateLimited: number;
  unauthorized: number;
  /** Requests that got an injected fault. */
  faulted: number;
  /** text → how many times it was sent to the server (any outcome). */
  textCalls: Map<string, number>;
  /** text → how many times it was billed (a 200 answer carried it). */
  billedTextCalls: Map<string, number>;
  /** One record per request, in arrival order: items, tokens, timestamps, status. */
  log: RequestRecord[];
  /** Total tokens billed. */
  tokens: number;
  /** The Files and Batch APIs: uploads, downloads, batches, inputs per custom id and per text. */
  batch: BatchStats;
}

export interface OpenAIServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Echo the received key in the 401 message (like a careless proxy) to test scrubbing. */
  echoKeyOn401?: boolean;
  /** Per-model default dimensions, merged over the OpenAI ones. */
  modelDimensions?: Record<string, number>;
  /** Dimensions for models not in the table. Default 768. */
  defaultDimensions?: number;
  /** Latency per request in ms: fixed, or a function of the batch. */
  latencyMs?: number | ((items: number, tokens: number) => number);
  /** Requests per window; 429 above. */
  rpm?: number;
  /** Tokens per window; 429 above. */
  tpm?: number;
  /** Sliding window length for rpm/tpm. Default 60 000 ms. */
  windowMs?: number;
  /** Send `retry-after-ms` along with `Retry-After` on rate-limit 429s. Default true. */
  retryAfterMsHeader?: boolean;
  /** Token count the server bills. Default ceil(utf8 bytes / 4). */
  countTokens?: (text: string) => number;
  /** Largest input list accepted (400 above). Default 2048. */
  maxItems?: number;
  /** /v1/chat/completions: its own RPM/TPM limits (same windowMs) and grader. */
  chat?: ChatOptions;
  /** The Files and Batch APIs' limits and pace; `false` answers 404 on /v1/files and /v1/batches. */
  batch?: BatchOptions | false;
  /** USD per 1M tokens per model, merged over DEFAULT_PRICES: `{input, batchInput? (default input/2)}`. */
  prices?: Record<string, ModelPrice>;
}

export interface OpenAIServer {
  /** Base URL ending in /v1, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  port: number;
  /** Counters of /v1/embeddings (chat has its own: chat.stats). */
  stats: ServerStats;
  /** /v1/chat/completions: stats, per-pair counters, faults, grader. */
  chat: ChatEndpoint;
  /** Replace the fault rules of /v1/embeddings (checked in order; the first matching rule with times left applies). Chat: chat.setFaults. */
  setFaults(...rules: Array<FaultRule | Fault>): void;
  /** From now on answer as a changed model would (rotated or noised vectors, another reported name); null: the original again. Kept by reset(). */
  setDrift(drift: Drift | null): void;
  /** Clear faults, stats and rate-limit windows (of both endpoints), files and batches. */
  reset(): void;
  close(): Promise<void>;
  /** The test's hand on time and outcomes of the Batch API. */
  batches: {
    /** Move one batch (or every batch) one step; returns the batches as they now are. Throws on an unknown id. */
    advance(id?: string): BatchObject[];
    /** Move one batch (or every batch) to a terminal status. */
    advanceAll(id?: string): BatchObject[];
    /** Faults for batches created from now on: every matching rule with uses left applies to a new batch. */
    setFaults(...rules: Array<BatchFaultRule | BatchFault>): void;
    /** Add faults to a known batch (they act at the steps still to come). */
    force(id: string, ...faults: BatchFault[]): void;
    /** Drop a batch: the server answers 404 for it from now on. */
    forget(id: string): void;
    get(id: string): BatchObject | undefined;
    /** Every batch, oldest first. */
    list(): BatchObject[];
  };
  files: {
    get(id: string): { meta: FileObject; content: string } | undefined;
    /** Every file, oldest first. */
    list(): FileObject[];
    /** Cut off the next `times` (default 1) downloads of `fileId` (default: any file) after `afterBytes` (default half). */
    cutDownload(cut?: { fileId?: string; afterBytes?: number; times?: number }): void;
  };
  /** What the embeddings traffic so far would cost at the server's prices (online and batch). */
  cost(): CostReport;
  /** The price the server uses for a model. */
  price(model: string): Required<ModelPrice>;
  /** Texts billed more than once, online and through batches together. */
  textsBilledTwice(): string[];
}

const OPENAI_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** A deterministic unit vector for (model, text). Exported so tests can compare. */
export function fakeEmbedding(model: string, text: string, dimensions: number): Float32Array {
  const seed = createHash('sha256').update(model).update('\0').update(text).digest();
  let s0 = seed.readUInt32LE(0) | 1;
  let s1 = seed.readUInt32LE(4) ^ 0x9e3779b9;
  let s2 = seed.readUInt32LE(8);
  let s3 = seed.readUInt32LE(12) | 2;
  const next = () => {
    // xoshiro128** — fast, good enough, deterministic.
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r / 4294967296;
  };
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = next() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) v[i] = v[i]! / norm;
  return v;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function approxTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Number((s % 60).toFixed(3))}s`;
}

function newStats(): ServerStats {
  return {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    unauthorized: 0,
    faulted: 0,
    textCalls: new Map(),
    billedTextCalls: new Map(),
    log: [],
    tokens: 0,
    batch: newBatchStats(),
  };
}

interface ActiveRule {
  fault: Fault;
  left: number;
  match?: (req: RequestInfo) => boolean;
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const windowMs = options.windowMs ?? 60_000;
  const countTokens = options.countTokens ?? approxTokens;
  const dims = { ...OPENAI_DIMENSIONS, ...options.modelDimensions };
  const maxItems = options.maxItems ?? 2048;
  const stats = newStats();
  let rules: ActiveRule[] = [];
  let drift: Drift | null = null;
  /** Accepted requests in the window: [time, tokens]. */
  let window: Array<{ at: number; tokens: number }> = [];
  let requestNo = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const prices = { ...DEFAULT_PRICES, ...options.prices };
  const idTag = createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 6);
  let idNo = 0;
  const newId = (prefix: string) => `${prefix}${idTag}${(++idNo).toString(16).padStart(8, '0')}`;
  const batchCtx: BatchContext = {
    countTokens,
    modelDimensions: (model) => dims[model] ?? options.defaultDimensions ?? 768,
    maxItems,
    embed: fakeEmbedding,
    now: Date.now,
    stats: () => stats.batch,
  };
  const files = new FileStore(() => newId('file-'), batchCtx.now);
  const batches = new BatchStore(batchCtx, files, newId, options.batch || {});

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function pruneWindow(now: number): void {
    const from = now - windowMs;
    let i = 0;
    while (i < window.length && window[i]!.at <= from) i++;
    if (i) window = window.slice(i);
  }

  function rateHeaders(now: number, extraTokens = 0): Record<string, string> {
    const h: Record<string, string> = {};
    const used = window.reduce((a, w) => a + w.tokens, 0) + extraTokens;
    const oldest = window[0]?.at;
    const reset = oldest === undefined ? 0 : oldest + windowMs - now;
    if (options.rpm !== undefined) {
      h['x-ratelimit-limit-requests'] = String(options.rpm);
      h['x-ratelimit-remaining-requests'] = String(Math.max(0, options.rpm - window.length));
      h['x-ratelimit-reset-requests'] = formatDuration(reset);
    }
    if (options.tpm !== undefined) {
      h['x-ratelimit-limit-tokens'] = String(options.tpm);
      h['x-ratelimit-remaining-tokens'] = String(Math.max(0, options.tpm - used));
      h['x-ratelimit-reset-tokens'] = formatDuration(reset);
    }
    return h;
  }

  /** ms until this request would fit in the window, or 0 when it fits now. */
  function waitNeeded(now: number, tokens: number): { ms: number; kind: 'requests' | 'tokens' } | null {
    pruneWindow(now);
    if (options.rpm !== undefined && window.length >= options.rpm) {
      const idx = window.length - options.rpm;
      return { ms: window[idx]!.at + windowMs - now, kind: 'requests' };
    }
    if (options.tpm !== undefined) {
      let used = window.reduce((a, w) => a + w.tokens, 0);
      if (used + tokens > options.tpm) {
        if (tokens > options.tpm) return { ms: windowMs, kind: 'tokens' };
        for (const w of window) {
          used -= w.tokens;
          if (used + tokens <= options.tpm) return { ms: w.at + windowMs - now, kind: 'tokens' };
        }
      }
    }
    return null;
  }

  function pickFault(req: RequestInfo): Fault | undefined {
    for (const rule of rules) {
      if (rule.left <= 0) continue;
      if (rule.match && !rule.match(req)) continue;
      rule.left--;
      return rule.fault;
    }
    return undefined;
  }

  function count(map: Map<string, number>, texts: string[]): void {
    for (const t of texts) map.set(t, (map.get(t) ?? 0) + 1);
  }

  async function handleEmbeddings(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const now = Date.now();
    stats.requests++;
    const n = ++requestNo;

    const denied = checkAuth(req, options.apiKey, options.echoKeyOn401);
    if (denied) {
      stats.unauthorized++;
      stats.log.push({
        n,
        at: now,
        model: '',
        items: 0,
        tokens: 0,
        status: 401,
        dimensions: 0,
        encodingFormat: 'float',
        texts: [],
      });
      return send(res, 401, denied);
    }

    let body: { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
    }
    const model = body.model;
    if (typeof model !== 'string' || model === '') {
      return send(res, 400, errorBody('you must provide a model parameter', 'invalid_request_error'));
    }
    const input = body.input;
    const texts = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string' && t !== '')) {
      return send(
        res,
        400,
        errorBody("'$.input' is invalid. Please check the API reference.", 'invalid_request_error'),
      );
    }
    if (texts.length > maxItems) {
      return send(res, 400, errorBody(`'$.input' must have at most ${maxItems} items`, 'invalid_request_error'));
    }
    const format = body.encoding_format === undefined ? 'float' : body.encoding_format;
    if (format !== 'float' && format !== 'base64') {
      return send(res, 400, errorBody("'encoding_format' must be 'float' or 'base64'", 'invalid_request_error'));
    }
    const modelDims = dims[model] ?? options.defaultDimensions ?? 768;
    let dimensions = modelDims;
    if (body.dimensions !== undefined) {
      const d = body.dimensions;
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > modelDims) {
        return send(
          res,
          400,
          errorBody(`Invalid 'dimensions': must be an integer between 1 and ${modelDims}.`, 'invalid_request_error'),
        );
      }
      dimensions = d;
    }
    const strings = texts as string[];
    const tokenList = strings.map(countTokens);
    const tokens = tokenList.reduce((a, b) => a + b, 0);
    count(stats.textCalls, strings);
    const record: RequestRecord = {
      n,
      at: now,
      model,
      items: strings.length,
      tokens,
      status: 200,
      dimensions,
      encodingFormat: format,
      texts: strings,
    };
    stats.log.push(record);

    // Rate limits (only accepted requests enter the window).
    const wait = waitNeeded(now, tokens);
    if (wait) {
      stats.rateLimited++;
      record.status = 429;
      const ms = Math.max(1, Math.ceil(wait.ms));
      record.retryAfterMs = options.retryAfterMsHeader !== false ? ms : Math.ceil(ms / 1000) * 1000;
      const headers: Record<string, string> = { ...rateHeaders(now), 'retry-after': String(Math.ceil(ms / 1000)) };
      if (options.retryAfterMsHeader !== false) headers['retry-after-ms'] = String(ms);
      const limit = wait.kind === 'requests' ? `${options.rpm} requests` : `${options.tpm} tokens`;
      return send(
        res,
        429,
        errorBody(
          `Rate limit reached for ${model}: limit ${limit} per ${windowMs} ms. Please try again in ${formatDuration(ms)}.`,
          wait.kind,
          'rate_limit_exceeded',
        ),
        headers,
      );
    }

    const fault = pickFault({ n, model, texts: strings, tokens });
    if (fault) {
      stats.faulted++;
      record.fault = fault.kind;
    }

    if (fault?.kind === 'status') {
      record.status = fault.status;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      const asked =
        fault.retryAfterMs ??
        (typeof fault.retryAfterSeconds === 'number' ? fault.retryAfterSeconds * 1000 : undefined);
      if (asked !== undefined) record.retryAfterMs = asked;
      if (fault.status === 429) stats.rateLimited++;
      return send(
        res,
        fault.status,
        errorBody(fault.message ?? `Injected ${fault.status}`, fault.status === 429 ? 'requests' : 'server_error'),
        headers,
      );
    }
    if (fault?.kind === 'hang') {
      record.status = 0;
      return; // never answer
    }

    window.push({ at: now, tokens });
    const latency =
      typeof options.latencyMs === 'function' ? options.latencyMs(strings.length, tokens) : (options.latencyMs ?? 0);
    await sleep(latency + (fault?.kind === 'delay' ? fault.ms : 0));
    if (res.destroyed) {
      record.status = 499;
      return;
    }

    if (fault?.kind === 'malformed-json') {
      count(stats.billedTextCalls, strings);
      stats.ok++;
      stats.tokens += tokens;
      return send(
        res,
        200,
        '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,',
        rateHeaders(Date.now()),
      );
    }

    const outDims = fault?.kind === 'wrong-dimensions' ? fault.dimensions : dimensions;
    const vectors = strings.map((t) =>
      drift ? applyDrift(drift, fakeEmbedding(model, t, outDims), t) : fakeEmbedding(model, t, outDims),
    );
    let indices = strings.map((_, i) => i);
    let nonFinite: { item: number; value: 'nan' | 'inf' } | undefined;
    if (fault?.kind === 'nan' || fault?.kind === 'infinity') {
      const item = Math.min(fault.item ?? 0, strings.length - 1);
      nonFinite = { item, value: fault.kind === 'nan' ? 'nan' : 'inf' };
      vectors[item]![0] = fault.kind === 'nan' ? NaN : Infinity;
    }
    if (fault?.kind === 'short-list') indices = indices.slice(0, Math.max(0, indices.length - (fault.drop ?? 1)));
    if (fault?.kind === 'shuffle') indices = shuffledOrder(indices.length, n); // indices are still 0..k-1 here
    if (fault?.kind === 'duplicate-index' && indices.length > 1) indices[indices.length - 1] = 0;

    const data = indices.map((i) => ({
      object: 'embedding',
      index: i,
      embedding: format === 'base64' ? toBase64(vectors[i]!) : Array.from(vectors[i]!),
    }));
    let text = JSON.stringify({
      object: 'list',
      data,
      model: drift?.reportModel ?? model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    if (nonFinite && format === 'float') {
      // JSON cannot carry NaN/Infinity: `null` and `1e999` (parses to Infinity) are what broken servers send.
      const pos = data.findIndex((d) => d.index === nonFinite!.item);
      if (pos >= 0) {
        const obj = JSON.parse(text);
        obj.data[pos].embedding[0] = '__NONFINITE__';
        text = JSON.stringify(obj).replace('"__NONFINITE__"', nonFinite.value === 'nan' ? 'null' : '1e999');
      }
    }
    count(stats.billedTextCalls, strings);
    stats.ok++;
    stats.tokens += tokens;
    send(res, 200, text, rateHeaders(Date.now()));
  }

  const chat = createChatEndpoint(
    {
      windowMs,
      retryAfterMsHeader: options.retryAfterMsHeader !== false,
      countTokens,
      latencyMs: (items, tokens) =>
        typeof options.latencyMs === 'function' ? options.latencyMs(items, tokens) : (options.latencyMs ?? 0),
      sleep,
    },
    options.chat,
  );

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && (path === '/v1/embeddings' || path === '/embeddings')) {
        handleEmbeddings(req, res, raw).catch((err: unknown) => {
          send(res, 500, errorBody(`server bug: ${String(err)}`, 'server_error'));
        });
      } else if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
        const denied = checkAuth(req, options.apiKey, options.echoKeyOn401);
        if (denied) {
          stats.unauthorized++;
          return send(res, 401, denied);
        }
        chat.handle(res, raw).catch((err: unknown) => {
          send(res, 500, errorBody(`server bug: ${String(err)}`, 'server_error'));
        });
      } else if (/^\/v1\/(files|batches)(\/|$)/.test(path ?? '') && options.batch !== false) {
        const denied = checkAuth(req, options.apiKey, options.echoKeyOn401);
        if (denied) {
          stats.unauthorized++;
          return send(res, 401, denied);
        }
        const [, first, ...rest] = (path ?? '').slice(1).split('/');
        try {
          const body = Buffer.concat(chunks);
          if (first === 'files') handleFiles(files, stats.batch, batches.maxFileBytes, req, res, body, rest);
          else batches.handle(req, res, body.toString('utf8'), rest);
        } catch (err) {
          send(res, 500, errorBody(`server bug: ${String(err)}`, 'server_error'));
        }
      } else if (req.method === 'GET' && path === '/v1/models') {
        send(res, 200, {
          object: 'list',
          data: Object.keys(dims).map((id) => ({ id, object: 'model', owned_by: 'local' })),
        });
      } else {
        send(res, 404, errorBody(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error'));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const autoAdvanceMs = options.batch ? options.batch.autoAdvanceMs : undefined;
  const ticker = autoAdvanceMs ? setInterval(() => batches.advance(), autoAdvanceMs) : undefined;
  ticker?.unref();

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    stats,
    chat,
    setFaults(...given) {
      rules = given.map((r) =>
        'fault' in r ? { fault: r.fault, left: r.times ?? 1, match: r.match } : { fault: r, left: 1 },
      );
    },
    setDrift(d) {
      drift = d;
    },
    reset() {
      rules = [];
      window = [];
      requestNo = 0;
      Object.assign(stats, newStats());
      chat.reset();
      files.clear();
      batches.clear();
    },
    close() {
      if (ticker) clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    batches: {
      advance: (id) => batches.advance(id),
      advanceAll: (id) => batches.advanceAll(id),
      setFaults: (...given) => batches.setFaults(given),
      force: (id, ...faults) => batches.force(id, faults),
      forget: (id) => batches.forget(id),
      get: (id) => batches.view(id),
      list: () => [...batches.batches.keys()].map((id) => batches.view(id)!),
    },
    files: {
      get(id) {
        const f = files.files.get(id);
        return f ? { meta: { ...f.meta }, content: f.content.toString('utf8') } : undefined;
      },
      list: () => [...files.files.values()].map((f) => ({ ...f.meta })),
      cutDownload: (cut = {}) =>
        files.cuts.push({ fileId: cut.fileId, afterBytes: cut.afterBytes, left: cut.times ?? 1 }),
    },
    cost: () => costReport(stats.log, stats.batch, prices),
    price: (model) => priceOf(prices, model),
    textsBilledTwice() {
      const all = new Map(stats.billedTextCalls);
      for (const [t, n] of stats.batch.billedTexts) all.set(t, (all.get(t) ?? 0) + n);
      return [...all].filter(([, n]) => n > 1).map(([t]) => t);
    },
  };
}
