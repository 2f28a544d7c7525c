/**
 * The Batch API of the test server: `POST /v1/batches`, `GET /v1/batches/{id}`,
 * `GET /v1/batches` (newest first, `after`/`limit`), `POST /v1/batches/{id}/cancel`,
 * for the endpoint `/v1/embeddings`.
 *
 * The test controls time: a batch moves one step each time it is advanced
 * (`server.batches.advance(id?)`, `advanceAll(id?)`, or every `autoAdvanceMs`):
 *
 *   validating ─► in_progress ─► (in_progress …) ─► finalizing ─► completed
 *        │             │  └──────────────────────────────► expired (expire fault)
 *        └─► failed    └─► cancelling (cancel) ─► cancelled
 *
 *  - validating: the input file (as it was when the batch was created) is
 *    checked as OpenAI does; any problem fails the batch with `errors.data`
 *    (code, line, message, param), all problems at once: `empty_file`,
 *    `invalid_json_line`, `missing_required_parameter`, `invalid_method`,
 *    `url_mismatch`, `duplicate_custom_id`, `model_mismatch`,
 *    `too_many_tasks` (more than `maxRequests` lines or `maxInputs` inputs),
 *    `token_limit_exceeded` (the model's enqueued tokens, with this batch's,
 *    over `maxEnqueuedTokens`). Then `request_counts.total` is set.
 *  - in_progress: each step runs ceil(total / inProgressSteps) requests. A
 *    request whose body the online endpoint would refuse gets its 400 in the
 *    error file; the others are embedded with the server's vectors (the same
 *    as online), honouring `dimensions` and
 *    `encoding_format`, and are billed (tokens, per custom_id, per text).
 *  - finalizing → completed: the output file (200 lines) and the error file
 *    (failed lines) are written; a file with no line is not made (its id stays
 *    null), as OpenAI does.
 *  - expired: the requests run so far keep their output; the others go to the
 *    error file with `error.code = "batch_expired"`. cancelled: the same with
 *    `batch_cancelled`. Both count those in `request_counts.failed`.
 *
 * Output line: `{id, custom_id, response: {status_code: 200, request_id,
 * body: {object: 'list', data: [...], model, usage}}, error: null}`; a failed
 * request: `response: {status_code, request_id, body: {error: {...}}}`;
 * expired or cancelled: `response: null, error: {code, message}`.
 *
 * Faults per batch (`BatchFault`) come from rules (`server.batches.setFaults`,
 * attached when a batch is created; every matching rule with uses left
 * applies) or are added to a known batch (`server.batches.force`). A fault
 * aimed at one request names it by `customId`, or by `line` (0-based index of
 * the request in the input file); default the first request.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  embeddingsDataJson,
  parseEmbeddingsBody,
  shuffledOrder,
  type BatchContext,
} from './openai-server-batch-body.js';
import type { FileStore } from './openai-server-files.js';
import { cursorPage, errorBody, queryOf, send, type ErrorBody } from './openai-server-http.js';
import {
  TERMINAL,
  type BatchError,
  type BatchFault,
  type BatchFaultRule,
  type BatchInfo,
  type BatchObject,
  type BatchOptions,
  type BatchStats,
  type LineTarget,
} from './openai-server-batch-types.js';
import { jsonlLines, textsOf, validateBatchInput, type BatchRequest } from './openai-server-batch-validate.js';

export * from './openai-server-batch-types.js';

type Outcome =
  | { kind: 'ok'; json: string }
  | { kind: 'error'; status: number; body: ErrorBody }
  | { kind: 'expired' }
  | { kind: 'cancelled' };

interface StoredBatch {
  obj: BatchObject;
  n: number;
  input: Buffer;
  faults: BatchFault[];
  requests: BatchRequest[];
  outcomes: Outcome[];
  /** Tokens of the validated requests (for the enqueued-token limit). */
  tokens: number;
  /** The request each fault aims at, found once (a batch can hold 50 000 requests). */
  targets: Map<BatchFault, BatchRequest | undefined>;
}

interface ActiveRule {
  fault: BatchFault;
  left: number;
  match?: (b: BatchInfo) => boolean;
}

const SUPPORTED_ENDPOINT = '/v1/embeddings';

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class BatchStore {
  readonly batches = new Map<string, StoredBatch>();
  private rules: ActiveRule[] = [];
  private created = 0;
  private readonly opts: Required<Omit<BatchOptions, 'autoAdvanceMs' | 'maxEnqueuedTokens'>> &
    Pick<BatchOptions, 'maxEnqueuedTokens'>;

  constructor(
    private readonly ctx: BatchContext,
    private readonly files: FileStore,
    private readonly newId: (prefix: string) => string,
    options: BatchOptions,
  ) {
    this.opts = {
      maxFileBytes: options.maxFileBytes ?? 200 * 1024 * 1024,
      maxRequests: options.maxRequests ?? 50_000,
      maxInputs: options.maxInputs ?? 50_000,
      maxEnqueuedTokens: options.maxEnqueuedTokens,
      inProgressSteps: Math.max(1, options.inProgressSteps ?? 1),
    };
  }

  get maxFileBytes(): number {
    return this.opts.maxFileBytes;
  }

  private get stats(): BatchStats {
    return this.ctx.stats();
  }

  private seconds(): number {
    return Math.floor(this.ctx.now() / 1000);
  }

  clear(): void {
    this.batches.clear();
    this.rules = [];
    this.created = 0;
  }

  setFaults(rules: Array<BatchFaultRule | BatchFault>): void {
    this.rules = rules.map((r) =>
      'fault' in r ? { fault: r.fault, left: r.times ?? 1, match: r.match } : { fault: r, left: 1 },
    );
  }

  private must(id: string): StoredBatch {
    const b = this.batches.get(id);
    if (!b) throw new Error(`The test server knows no batch ${id}`);
    return b;
  }

  force(id: string, faults: BatchFault[]): void {
    this.must(id).faults.push(...faults);
  }

  forget(id: string): void {
    this.must(id);
    this.batches.delete(id);
  }

  view(id: string): BatchObject | undefined {
    const b = this.batches.get(id);
    return b ? structuredClone(b.obj) : undefined;
  }

  /** Move one batch (or every live one) one step; returns the batches as they now are. */
  advance(id?: string): BatchObject[] {
    const targets = id === undefined ? [...this.batches.values()] : [this.must(id)];
    for (const b of targets) this.step(b);
    return targets.map((b) => structuredClone(b.obj));
  }

  /** Move one batch (or every live one) to a terminal status. */
  advanceAll(id?: string): BatchObject[] {
    const targets = id === undefined ? [...this.batches.values()] : [this.must(id)];
    for (const b of targets) {
      for (let guard = 0; !TERMINAL.has(b.obj.status); guard++) {
        if (guard > 10 + this.opts.inProgressSteps) throw new Error(`batch ${b.obj.id} does not settle`);
        this.step(b);
      }
    }
    return targets.map((b) => structuredClone(b.obj));
  }

  // ---- HTTP ----

  handle(req: IncomingMessage, res: ServerResponse, raw: string, parts: string[]): void {
    const method = req.method;
    const [id, sub, ...rest] = parts;
    if (id === undefined && method === 'POST') return this.create(res, raw);
    if (id === undefined && method === 'GET') {
      const all = [...this.batches.values()].map((b) => b.obj).reverse();
      const page = cursorPage(all, queryOf(req.url));
      return send(res, page.ok ? 200 : 400, page.body);
    }
    if (id !== undefined && rest.length === 0) {
      const b = this.batches.get(id);
      if (method === 'GET' && sub === undefined) return b ? send(res, 200, b.obj) : this.notFound(res, id);
      if (method === 'POST' && sub === 'cancel') return b ? this.cancel(res, b) : this.notFound(res, id);
    }
    send(res, 404, errorBody(`Unknown request URL: ${method} ${req.url}`, 'invalid_request_error'));
  }

  private notFound(res: ServerResponse, id: string): void {
    send(res, 404, errorBody(`No batch found with id '${id}'.`, 'invalid_request_error', 'not_found', 'batch_id'));
  }

  private create(res: ServerResponse, raw: string): void {
    const bad = (message: string, param: string | null) =>
      send(res, 400, errorBody(message, 'invalid_request_error', null, param));
    let body: { input_file_id?: unknown; endpoint?: unknown; completion_window?: unknown; metadata?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return bad('We could not parse the JSON body of your request.', null);
    }
    const { input_file_id: fileId, endpoint, completion_window: window, metadata } = body;
    if (typeof fileId !== 'string') return bad("Missing required parameter: 'input_file_id'.", 'input_file_id');
    if (endpoint !== SUPPORTED_ENDPOINT) {
      return bad(`Invalid 'endpoint': this test server runs batches for ${SUPPORTED_ENDPOINT} only.`, 'endpoint');
    }
    if (window !== '24h') return bad("Invalid 'completion_window': only '24h' is supported.", 'completion_window');
    if (metadata !== undefined && metadata !== null) {
      const entries = typeof metadata === 'object' && !Array.isArray(metadata) ? Object.entries(metadata) : null;
      if (
        !entries ||
        entries.length > 16 ||
        !entries.every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512)
      ) {
        return bad(
          "Invalid 'metadata': at most 16 string values, keys up to 64 and values up to 512 characters.",
          'metadata',
        );
      }
    }
    const file = this.files.files.get(fileId);
    if (!file) return bad(`Invalid 'input_file_id': no file with id '${fileId}'.`, 'input_file_id');
    if (file.meta.purpose !== 'batch') {
      return bad(
        `Invalid 'input_file_id': the file's purpose is '${file.meta.purpose}', not 'batch'.`,
        'input_file_id',
      );
    }

    const n = ++this.created;
    const now = this.seconds();
    const obj: BatchObject = {
      id: this.newId('batch_'),
      object: 'batch',
      endpoint,
      model: null,
      errors: null,
      input_file_id: fileId,
      completion_window: window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: now,
      in_progress_at: null,
      expires_at: now + 24 * 3600,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      usage: {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      },
      metadata: (metadata as Record<string, string> | null | undefined) ?? null,
    };
    const stored: StoredBatch = {
      obj,
      n,
      input: file.content,
      faults: [],
      requests: [],
      outcomes: [],
      tokens: 0,
      targets: new Map(),
    };

    // What was submitted, read leniently (validation comes later).
    const info: BatchInfo = { n, id: obj.id, inputFileId: fileId, metadata: obj.metadata, customIds: [], texts: [] };
    for (const { text } of jsonlLines(file.content)) {
      try {
        const line = JSON.parse(text) as { custom_id?: unknown; body?: unknown };
        if (typeof line.custom_id === 'string') info.customIds.push(line.custom_id);
        info.texts.push(...textsOf(line.body));
      } catch {}
    }
    for (const c of info.customIds) bump(this.stats.submittedCustomIds, c);
    for (const t of info.texts) bump(this.stats.submittedTexts, t);
    for (const rule of this.rules) {
      if (rule.left <= 0 || (rule.match && !rule.match(info))) continue;
      rule.left--;
      stored.faults.push(rule.fault);
    }
    this.batches.set(obj.id, stored);
    this.stats.batchesCreated++;
    send(res, 200, obj);
  }

  private cancel(res: ServerResponse, b: StoredBatch): void {
    const status = b.obj.status;
    if (status === 'cancelling') return send(res, 200, b.obj);
    if (status !== 'validating' && status !== 'in_progress') {
      return send(
        res,
        400,
        errorBody(`Cannot cancel a batch with status '${status}'.`, 'invalid_request_error', null, 'batch_id'),
      );
    }
    b.obj.status = 'cancelling';
    b.obj.cancelling_at = this.seconds();
    this.stats.cancels++;
    send(res, 200, b.obj);
  }

  // ---- The state machine ----

  private step(b: StoredBatch): void {
    const obj = b.obj;
    switch (obj.status) {
      case 'validating': {
        const fail = b.faults.find((f) => f.kind === 'fail');
        const errors = fail
          ? (fail.errors ?? [
              { code: 'batch_failed', message: 'The batch failed (injected).', line: null, param: null },
            ])
          : this.validate(b);
        if (errors.length > 0) {
          obj.status = 'failed';
          obj.failed_at = this.seconds();
          obj.errors = { object: 'list', data: errors };
          return;
        }
        obj.status = 'in_progress';
        obj.in_progress_at = this.seconds();
        obj.request_counts.total = b.requests.length;
        return;
      }
      case 'in_progress': {
        const total = b.requests.length;
        const expire = b.faults.find((f) => f.kind === 'expire');
        if (expire) {
          const upTo = Math.min(total, Math.max(0, expire.completed ?? Math.floor(total / 2)));
          while (b.outcomes.length < upTo) this.run(b);
          this.settle(b, 'expired');
          return;
        }
        const upTo = Math.min(total, b.outcomes.length + Math.ceil(total / this.opts.inProgressSteps));
        while (b.outcomes.length < upTo) this.run(b);
        if (b.outcomes.length === total) {
          obj.status = 'finalizing';
          obj.finalizing_at = this.seconds();
        }
        return;
      }
      case 'finalizing':
        this.settle(b, 'completed');
        return;
      case 'cancelling':
        this.settle(b, 'cancelled');
        return;
      default:
        return; // terminal
    }
  }

  /** Check the input file; on success the batch holds its requests. */
  private validate(b: StoredBatch): BatchError[] {
    const enqueued = (model: string) => {
      let sum = 0;
      for (const other of this.batches.values()) {
        const live = ['in_progress', 'finalizing', 'cancelling'].includes(other.obj.status);
        if (other !== b && live && other.obj.model === model) sum += other.tokens;
      }
      return sum;
    };
    const v = validateBatchInput(b.input, b.obj.endpoint, this.opts, this.ctx.countTokens, enqueued);
    if (v.errors.length === 0) {
      b.requests = v.requests;
      b.tokens = v.tokens;
      b.obj.model = v.model;
    }
    return v.errors;
  }

  private target(b: StoredBatch, f: BatchFault): BatchRequest | undefined {
    if (!b.targets.has(f)) {
      const t = f as LineTarget;
      const r = t.customId !== undefined ? b.requests.find((x) => x.customId === t.customId) : b.requests[t.line ?? 0];
      b.targets.set(f, r);
    }
    return b.targets.get(f);
  }

  /** Faults of this kind aimed at this request. */
  private aimed<K extends BatchFault['kind']>(
    b: StoredBatch,
    r: BatchRequest,
    kind: K,
  ): Array<Extract<BatchFault, { kind: K }>> {
    return b.faults.filter((f): f is Extract<BatchFault, { kind: K }> => f.kind === kind && this.target(b, f) === r);
  }

  /** Run the next request of the batch. */
  private run(b: StoredBatch): void {
    const r = b.requests[b.outcomes.length]!;
    const counts = b.obj.request_counts;
    const injected = b.faults.find(
      (f): f is Extract<BatchFault, { kind: 'error-lines' }> =>
        f.kind === 'error-lines' && ((f.customIds ?? []).includes(r.customId) || (f.lines ?? []).includes(r.index)),
    );
    if (injected) {
      const status = injected.status ?? 500;
      const type = status >= 500 ? 'server_error' : 'invalid_request_error';
      const message = injected.message ?? 'The server had an error while processing your request.';
      b.outcomes.push({ kind: 'error', status, body: errorBody(message, type) });
      counts.failed++;
      return;
    }
    const parsed = parseEmbeddingsBody(r.body, this.ctx);
    if ('error' in parsed) {
      b.outcomes.push({ kind: 'error', status: 400, body: parsed });
      counts.failed++;
      return;
    }
    const dims = this.aimed(b, r, 'wrong-dimensions')[0]?.dimensions ?? parsed.dimensions;
    const vectors = parsed.texts.map((t) => this.ctx.embed(parsed.model, t, dims));
    for (const f of [...this.aimed(b, r, 'nan'), ...this.aimed(b, r, 'infinity')]) {
      vectors[Math.min(f.item ?? 0, vectors.length - 1)]![0] = f.kind === 'nan' ? NaN : Infinity;
    }
    let order = vectors.map((_, i) => i);
    const short = this.aimed(b, r, 'short-list')[0];
    if (short) order = order.slice(0, Math.max(0, order.length - (short.drop ?? 1)));
    const usage = JSON.stringify({ prompt_tokens: r.tokens, total_tokens: r.tokens });
    const model = JSON.stringify(parsed.model);
    const json = `{"object":"list","data":${embeddingsDataJson(vectors, order, parsed.format)},"model":${model},"usage":${usage}}`;
    b.outcomes.push({ kind: 'ok', json });
    counts.completed++;
    const usageObj = b.obj.usage;
    usageObj.input_tokens += r.tokens;
    usageObj.total_tokens += r.tokens;
    const stats = this.stats;
    stats.tokens += r.tokens;
    bump(stats.tokensByModel, parsed.model, r.tokens);
    bump(stats.billedCustomIds, r.customId);
    for (const t of r.texts) bump(stats.billedTexts, t);
  }

  private requestId(b: StoredBatch, customId: string, salt = ''): { id: string; request_id: string } {
    const h = createHash('sha256').update(`${b.obj.id}\0${customId}\0${salt}`).digest('hex');
    return { id: `batch_req_${h.slice(0, 24)}`, request_id: h.slice(24, 56) };
  }

  /** End the batch in `status`: requests not run get `expired`/`cancelled`; the files are written. */
  private settle(b: StoredBatch, status: 'completed' | 'expired' | 'cancelled'): void {
    const obj = b.obj;
    if (status !== 'completed') {
      const kind = status === 'expired' ? 'expired' : 'cancelled';
      while (b.outcomes.length < b.requests.length) {
        b.outcomes.push({ kind });
        obj.request_counts.failed++;
      }
    }
    const out: string[] = [];
    const errs: string[] = [];
    b.requests.forEach((r, i) => {
      const outcome = b.outcomes[i]!;
      const { id, request_id } = this.requestId(b, r.customId);
      const head = `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(r.customId)},`;
      if (outcome.kind === 'ok') {
        if (this.aimed(b, r, 'missing-line').length > 0) return;
        let line = `${head}"response":{"status_code":200,"request_id":"${request_id}","body":${outcome.json}},"error":null}`;
        if (this.aimed(b, r, 'malformed-line').length > 0) line = line.slice(0, Math.floor(line.length / 2));
        out.push(line);
        if (this.aimed(b, r, 'duplicate-line').length > 0) out.push(line);
      } else if (outcome.kind === 'error') {
        const response = { status_code: outcome.status, request_id, body: outcome.body };
        errs.push(`${head}"response":${JSON.stringify(response)},"error":null}`);
      } else {
        const error =
          outcome.kind === 'expired'
            ? {
                code: 'batch_expired',
                message: 'This request could not be executed before the completion window expired.',
              }
            : { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' };
        errs.push(`${head}"response":null,"error":${JSON.stringify(error)}}`);
      }
    });
    for (const f of b.faults) {
      if (f.kind !== 'unknown-custom-id') continue;
      const customId = f.customId ?? `unknown-${b.n}`;
      const model = obj.model ?? 'text-embedding-3-small';
      const first = b.requests[0] ? parseEmbeddingsBody(b.requests[0].body, this.ctx) : undefined;
      const dims = first && !('error' in first) ? first.dimensions : this.ctx.modelDimensions(model);
      const v = this.ctx.embed(model, customId, dims);
      const { id, request_id } = this.requestId(b, customId, 'unknown');
      const body = `{"object":"list","data":${embeddingsDataJson([v], [0], 'float')},"model":${JSON.stringify(model)},"usage":{"prompt_tokens":1,"total_tokens":1}}`;
      out.push(
        `{"id":"${id}","custom_id":${JSON.stringify(customId)},"response":{"status_code":200,"request_id":"${request_id}","body":${body}},"error":null}`,
      );
    }
    const lines = b.faults.some((f) => f.kind === 'shuffle') ? shuffledOrder(out.length, b.n).map((i) => out[i]!) : out;
    const write = (which: 'output' | 'error', content: string[]) => {
      if (content.length === 0) return null;
      // Line by line: a big file would pass V8's longest string.
      const bytes = Buffer.concat(content.map((l) => Buffer.from(l + '\n')));
      const file = this.files.add('batch_output', `${obj.id}_${which}.jsonl`, bytes);
      for (const f of b.faults) {
        if (f.kind === 'cut-download' && (f.file ?? 'output') === which) {
          this.files.cuts.push({ fileId: file.meta.id, afterBytes: f.afterBytes, left: f.times ?? 1 });
        }
      }
      return file.meta.id;
    };
    obj.output_file_id = write('output', lines);
    obj.error_file_id = write('error', errs);
    obj.status = status;
    const at = this.seconds();
    if (status === 'completed') obj.completed_at = at;
    else if (status === 'expired') obj.expired_at = at;
    else obj.cancelled_at = at;
  }
}
