/**
 * `POST /v1/chat/completions` of the test server: a stand-in LLM relevance
 * judge behind the same bearer key as the embeddings endpoint, with its own
 * RPM/TPM window (429 + Retry-After), its own fault rules (5xx, bad answers)
 * and a pluggable grader (default: word overlap, openai-server-grader.ts).
 * Every request is recorded with what it sent (temperature, response_format,
 * max tokens, messages) and counted per (query, passage) pair, so tests can
 * prove that nothing is judged twice.
 *
 * Tokens: prompt = Σ countTokens(message text) + 4 per message; completion =
 * countTokens(answer). `max_completion_tokens` (or `max_tokens`) below the
 * answer's tokens cuts the answer to that many tokens × 4 bytes with
 * `finish_reason: "length"`. `response_format: {type: 'json_object'}` needs
 * the word "json" in some message (400 otherwise, as the API does).
 */
import type { ServerResponse } from 'node:http';
import { errorBody, send } from './openai-server-http.js';
import { RateWindow } from './openai-server-limits.js';
import {
  defaultGrader,
  findPair,
  messageText,
  pairKey,
  type ChatMessage,
  type Grader,
} from './openai-server-grader.js';

export type ChatFault =
  /** Answer this status with an OpenAI-style error body (429 may carry a Retry-After in seconds). */
  | { kind: 'status'; status: number; retryAfterSeconds?: number | string; retryAfterMs?: number; message?: string }
  /** Never answer. */
  | { kind: 'hang' }
  /** 200 with a truncated JSON body. */
  | { kind: 'malformed-json' }
  /** Extra latency for this request only. */
  | { kind: 'delay'; ms: number }
  /** The answer is prose, not JSON (default: `The passage is relevant. Grade: 2`). */
  | { kind: 'non-json'; content?: string }
  /** The answer is `{"grade": N}` with N outside 0..3 (default 7). */
  | { kind: 'grade-out-of-range'; grade?: number }
  /** The answer is a JSON object without a `grade` key (default `{"score":2,"reason":"relevant"}`). */
  | { kind: 'other-keys'; value?: Record<string, unknown> }
  /** 200 with `choices: []`. */
  | { kind: 'empty-choices' }
  /** The answer is cut off (`{"grade": `) with `finish_reason: "length"`. */
  | { kind: 'finish-length' }
  /** The answer's content is exactly this string. */
  | { kind: 'answer'; content: string };

export interface ChatRequestInfo {
  /** 1-based number of this request among chat requests. */
  n: number;
  model: string;
  /** Prompt tokens. */
  tokens: number;
  /** The pair the prompt holds (see findPair), when found. */
  query?: string;
  passage?: string;
}

export interface ChatFaultRule {
  fault: ChatFault;
  /** How many matching requests get this fault (default 1; Infinity for all). */
  times?: number;
  /** Only requests for which this returns true (default: every request). */
  match?: (req: ChatRequestInfo) => boolean;
}

export interface ChatRecord {
  n: number;
  at: number;
  model: string;
  /** 200, 4xx/5xx, 429, 0 for a hang, 499 when the client left. */
  status: number;
  /** As sent; undefined when the request did not set it. */
  temperature?: number;
  responseFormat?: unknown;
  /** `max_completion_tokens` or `max_tokens` as sent. */
  maxTokens?: number;
  messages: ChatMessage[];
  query?: string;
  passage?: string;
  /** The answer's content (undefined without a 200 answer with a choice). */
  content?: string;
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
  fault?: ChatFault['kind'];
  /** On a 429 or injected status: the wait asked for, in ms. */
  retryAfterMs?: number;
}

export interface ChatStats {
  /** Requests received (any outcome, after the key check). */
  requests: number;
  /** Requests answered 200 (billed). */
  ok: number;
  rateLimited: number;
  faulted: number;
  /** pairKey(query, passage) → requests that carried the pair (any outcome). */
  pairCalls: Map<string, number>;
  /** pairKey(query, passage) → 200 answers for the pair (billed). */
  billedPairCalls: Map<string, number>;
  log: ChatRecord[];
  promptTokens: number;
  completionTokens: number;
}

export interface ChatOptions {
  /** Requests per window of this endpoint; 429 above. */
  rpm?: number;
  /** Prompt tokens per window of this endpoint; 429 above. */
  tpm?: number;
  /** Decides the answers (default: defaultGrader, word overlap). */
  grader?: Grader;
}

/** What the server gives the endpoint. */
export interface ChatHost {
  windowMs: number;
  retryAfterMsHeader: boolean;
  countTokens: (text: string) => number;
  latencyMs: (items: number, tokens: number) => number;
  sleep: (ms: number) => Promise<void>;
}

export interface ChatEndpoint {
  stats: ChatStats;
  /** Answer one request (the key is already checked). */
  handle(res: ServerResponse, raw: string): Promise<void>;
  /** Replace the fault rules (checked in order; the first matching rule with times left applies). */
  setFaults(...rules: Array<ChatFaultRule | ChatFault>): void;
  /** Replace the grader; without one, back to the option's (or the default). */
  setGrader(grader?: Grader): void;
  /** Requests that carried this pair (any outcome). */
  pairCalls(query: string, passage: string): number;
  /** 200 answers for this pair. */
  billedPairCalls(query: string, passage: string): number;
  /** Pairs billed more than once. */
  pairsBilledTwice(): Array<{ query: string; passage: string; calls: number }>;
  /** Clear faults, the grader set later, stats and the rate window. */
  reset(): void;
}

function newChatStats(): ChatStats {
  return {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    faulted: 0,
    pairCalls: new Map(),
    billedPairCalls: new Map(),
    log: [],
    promptTokens: 0,
    completionTokens: 0,
  };
}

function isMessage(m: unknown): m is ChatMessage {
  if (!m || typeof m !== 'object') return false;
  const { role, content } = m as { role?: unknown; content?: unknown };
  return typeof role === 'string' && (typeof content === 'string' || Array.isArray(content) || content === null);
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

interface ActiveRule {
  fault: ChatFault;
  left: number;
  match?: (req: ChatRequestInfo) => boolean;
}

export function createChatEndpoint(host: ChatHost, options: ChatOptions = {}): ChatEndpoint {
  const stats = newChatStats();
  const window = new RateWindow({ rpm: options.rpm, tpm: options.tpm, windowMs: host.windowMs });
  let rules: ActiveRule[] = [];
  let grader: Grader | undefined;
  let requestNo = 0;

  function pickFault(req: ChatRequestInfo): ChatFault | undefined {
    for (const rule of rules) {
      if (rule.left <= 0) continue;
      if (rule.match && !rule.match(req)) continue;
      rule.left--;
      return rule.fault;
    }
    return undefined;
  }

  async function handle(res: ServerResponse, raw: string): Promise<void> {
    const now = Date.now();
    stats.requests++;
    const n = ++requestNo;
    let body: {
      model?: unknown;
      messages?: unknown;
      temperature?: unknown;
      response_format?: unknown;
      max_tokens?: unknown;
      max_completion_tokens?: unknown;
    };
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
    }
    const bad = (message: string, param: string) =>
      send(res, 400, errorBody(message, 'invalid_request_error', null, param));
    const { model, messages } = body;
    if (typeof model !== 'string' || model === '') return bad('you must provide a model parameter', 'model');
    if (!Array.isArray(messages) || messages.length === 0 || !messages.every(isMessage)) {
      return bad("'messages' must be a non-empty array of {role, content} objects.", 'messages');
    }
    const t = body.temperature;
    if (t !== undefined && t !== null && (typeof t !== 'number' || t < 0 || t > 2)) {
      return bad("Invalid 'temperature': must be a number between 0 and 2.", 'temperature');
    }
    const format = body.response_format as { type?: unknown } | undefined | null;
    if (format !== undefined && format !== null) {
      if (typeof format !== 'object' || !['text', 'json_object', 'json_schema'].includes(String(format.type))) {
        return bad(
          "Invalid 'response_format': type must be 'text', 'json_object' or 'json_schema'.",
          'response_format',
        );
      }
      if (format.type === 'json_object' && !messages.some((m) => /json/i.test(messageText(m)))) {
        return bad(
          "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
          'messages',
        );
      }
    }
    const maxRaw = body.max_completion_tokens ?? body.max_tokens;
    if (
      maxRaw !== undefined &&
      maxRaw !== null &&
      (typeof maxRaw !== 'number' || !Number.isInteger(maxRaw) || maxRaw < 1)
    ) {
      return bad("Invalid 'max_tokens': must be a positive integer.", 'max_tokens');
    }
    const maxTokens = typeof maxRaw === 'number' ? maxRaw : undefined;
    const temperature = typeof t === 'number' ? t : undefined;
    const jsonMode = format?.type === 'json_object' || format?.type === 'json_schema';

    const promptTokens = messages.reduce((a, m) => a + host.countTokens(messageText(m)) + 4, 0);
    const pair = findPair(messages);
    if (pair) bump(stats.pairCalls, pairKey(pair.query, pair.passage));
    const record: ChatRecord = {
      n,
      at: now,
      model,
      status: 200,
      temperature,
      responseFormat: format ?? undefined,
      maxTokens,
      messages,
      query: pair?.query,
      passage: pair?.passage,
      promptTokens,
      completionTokens: 0,
    };
    stats.log.push(record);

    const wait = window.waitNeeded(now, promptTokens);
    if (wait) {
      stats.rateLimited++;
      const answer = window.reject(now, wait, model, host.retryAfterMsHeader);
      record.status = 429;
      record.retryAfterMs = answer.retryAfterMs;
      return send(res, 429, answer.body, answer.headers);
    }

    const fault = pickFault({ n, model, tokens: promptTokens, ...pair });
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
      const type = fault.status === 429 ? 'requests' : 'server_error';
      return send(res, fault.status, errorBody(fault.message ?? `Injected ${fault.status}`, type), headers);
    }
    if (fault?.kind === 'hang') {
      record.status = 0;
      return;
    }

    window.add(now, promptTokens);
    await host.sleep(host.latencyMs(1, promptTokens) + (fault?.kind === 'delay' ? fault.ms : 0));
    if (res.destroyed) {
      record.status = 499;
      return;
    }

    let content: string;
    let finishReason = 'stop';
    switch (fault?.kind) {
      case 'non-json':
        content = fault.content ?? 'The passage is relevant. Grade: 2';
        break;
      case 'grade-out-of-range':
        content = JSON.stringify({ grade: fault.grade ?? 7 });
        break;
      case 'other-keys':
        content = JSON.stringify(fault.value ?? { score: 2, reason: 'relevant' });
        break;
      case 'finish-length':
        content = '{"grade": ';
        finishReason = 'length';
        break;
      case 'answer':
        content = fault.content;
        break;
      default: {
        const grade = (grader ?? options.grader ?? defaultGrader)({ model, messages, temperature, n, ...pair });
        content = typeof grade === 'number' ? `{"grade": ${grade}}` : grade;
        if (typeof grade === 'number' && !jsonMode) content = '```json\n' + content + '\n```';
      }
    }
    if (maxTokens !== undefined && host.countTokens(content) > maxTokens) {
      content = Buffer.from(content)
        .subarray(0, maxTokens * 4)
        .toString('utf8');
      finishReason = 'length';
    }
    const completionTokens = host.countTokens(content);
    const empty = fault?.kind === 'empty-choices';
    record.completionTokens = completionTokens;
    if (!empty) {
      record.content = content;
      record.finishReason = finishReason;
    }
    stats.ok++;
    stats.promptTokens += promptTokens;
    stats.completionTokens += completionTokens;
    if (pair) bump(stats.billedPairCalls, pairKey(pair.query, pair.passage));

    if (fault?.kind === 'malformed-json') {
      return send(res, 200, '{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"message":{"role":');
    }
    const choices = empty
      ? []
      : [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            logprobs: null,
            finish_reason: finishReason,
          },
        ];
    send(
      res,
      200,
      {
        id: `chatcmpl-test${String(n).padStart(8, '0')}`,
        object: 'chat.completion',
        created: Math.floor(now / 1000),
        model,
        choices,
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        system_fingerprint: 'fp_embctl_test',
      },
      window.headers(Date.now()),
    );
  }

  return {
    stats,
    handle,
    setFaults(...given) {
      rules = given.map((r) =>
        'fault' in r ? { fault: r.fault, left: r.times ?? 1, match: r.match } : { fault: r, left: 1 },
      );
    },
    setGrader(g) {
      grader = g;
    },
    pairCalls: (q, p) => stats.pairCalls.get(pairKey(q, p)) ?? 0,
    billedPairCalls: (q, p) => stats.billedPairCalls.get(pairKey(q, p)) ?? 0,
    pairsBilledTwice() {
      const out: Array<{ query: string; passage: string; calls: number }> = [];
      for (const [key, calls] of stats.billedPairCalls) {
        if (calls < 2) continue;
        const [query, passage] = JSON.parse(key) as [string, string];
        out.push({ query, passage, calls });
      }
      return out;
    },
    reset() {
      rules = [];
      grader = undefined;
      requestNo = 0;
      window.clear();
      Object.assign(stats, newChatStats());
    },
  };
}
