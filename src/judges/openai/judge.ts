/**
 * The `openai:<chat model>` judge: one chat completion per (query, passage)
 * pair through the official SDK, against api.openai.com or any
 * OpenAI-compatible server. Temperature 0, JSON mode, an UMBRELA-style
 * rubric (prompt.ts); the answer must be `{"grade": 0..3}` (answer.ts).
 *
 * Two kinds of retry:
 * - the request's (429 with Retry-After, 5xx, timeouts, dropped
 *   connections): the encoder's retry loop, with its events for the quota;
 *   when it gives up, the whole `judge` call throws;
 * - the answer's: an invalid answer is asked again once; a second invalid
 *   answer is the pair's verdict `ok: false`, with the reason.
 *
 * Batches: one pair per request (a chat judge grades one pair per call).
 * `maxBatchPairs` defaults to 1, so that one `judge` call is one request and
 * the caller's concurrency and quota see requests as they are; with more,
 * the pairs of a call are sent concurrently.
 */
import type OpenAI from 'openai';
import {
  OpenAIRequestFailure,
  createOpenAIClient,
  toOpenAIError,
  withRetries,
  type RetryConfig,
} from '../../encoders/index.js';
import { InputError } from '../../errors.js';
import { silentLogger } from '../../log/index.js';
import type { Judge, JudgeIdentity, JudgeOptions, JudgePair, JudgeVerdict } from '../types.js';
import { parseAnswer, type ParsedAnswer } from './answer.js';
import { fitPrompt } from './fit.js';
import { resolveJudgeOptions, type OpenAIJudgeOptions } from './options.js';

export type { OpenAIJudgeOptions } from './options.js';

/** Temperature of every request: the same pair gets the same grade. */
export const JUDGE_TEMPERATURE = 0;
/** Most tokens the answer may take (`{"grade": N}` needs about 6). */
export const ANSWER_MAX_TOKENS = 20;
/** Times an invalid answer is asked again. */
const ANSWER_RETRIES = 1;

export function createOpenAIJudge(model: string, options: OpenAIJudgeOptions = {}): Judge {
  const cfg = resolveJudgeOptions(model, options);
  const name = `judge ${cfg.spec}`;
  const conn = cfg.connection;
  const secrets = conn.apiKey.length >= 4 ? [conn.apiKey] : [];
  const logger = (options.logger ?? silentLogger()).child({ judge: cfg.spec, host: conn.baseURLHost });
  const client = createOpenAIClient(conn, cfg.timeoutMs, options.fetch);
  const retry: RetryConfig = {
    timeoutMs: cfg.timeoutMs,
    maxAttempts: cfg.maxAttempts,
    backoff: options.backoff ?? {},
    secrets,
    logger,
    what: 'chat request',
  };

  const identity: JudgeIdentity = {
    id: `openai:${cfg.model}@${cfg.promptSha256.slice(0, 12)}`,
    kind: 'openai',
    spec: cfg.spec,
    model: cfg.model,
    revision: cfg.promptSha256,
    settings: {
      promptVersion: cfg.prompt.version,
      temperature: JUDGE_TEMPERATURE,
      maxTokens: cfg.maxTokens,
      baseURLHost: conn.baseURLHost,
    },
  };

  const fit = (pair: JudgePair) => fitPrompt(cfg.prompt, pair.query, pair.passage, cfg.maxTokens, cfg.tokenizer);

  /** One request for one pair (with the request's retries); the answer, checked. */
  async function ask(
    messages: OpenAI.Chat.ChatCompletionMessageParam[],
    tokens: number,
    opts: JudgeOptions,
  ): Promise<ParsedAnswer> {
    return withRetries(retry, { items: 1, tokens, signal: opts.signal, onEvent: opts.onEvent }, async (signal) => {
      const response = await client.chat.completions.create(
        {
          model: cfg.model,
          messages,
          temperature: JUDGE_TEMPERATURE,
          response_format: { type: 'json_object' },
          max_completion_tokens: ANSWER_MAX_TOKENS,
        },
        { signal, timeout: cfg.timeoutMs, maxRetries: 0 },
      );
      const content = Array.isArray(response?.choices) ? response.choices[0]?.message?.content : undefined;
      const billed = response?.usage?.prompt_tokens;
      return { value: parseAnswer(content, secrets), tokens: typeof billed === 'number' ? billed : undefined };
    });
  }

  async function judgeOne(pair: JudgePair, index: number, opts: JudgeOptions): Promise<JudgeVerdict> {
    const fitted = fit(pair);
    if (fitted.truncated) logger.debug({ pair: index, tokens: fitted.tokens }, 'pair cut to the token budget');
    let answer: ParsedAnswer | undefined;
    for (let i = 0; i <= ANSWER_RETRIES; i++) {
      try {
        answer = await ask(fitted.messages, fitted.tokens, opts);
      } catch (err) {
        if (err instanceof OpenAIRequestFailure) throw toOpenAIError(err, name, ` (pair ${index})`, conn);
        throw err; // the caller's abort reason
      }
      if (answer.ok) return { ok: true, grade: answer.grade, raw: answer.grade };
      logger.warn({ pair: index, attempt: i + 1 }, `invalid answer: ${answer.reason}`);
    }
    const reason = answer && !answer.ok ? answer.reason : 'no answer';
    return { ok: false, reason: `${reason} (asked ${ANSWER_RETRIES + 1} times)` };
  }

  async function judge(pairs: readonly JudgePair[], opts: JudgeOptions = {}): Promise<JudgeVerdict[]> {
    if (!Array.isArray(pairs)) throw new InputError(`${name}: judge expects a list of (query, passage) pairs`);
    const bad = pairs.findIndex((p) => typeof p?.query !== 'string' || typeof p?.passage !== 'string');
    if (bad >= 0) throw new InputError(`${name}: pair ${bad} has no query or passage text`);
    const out: JudgeVerdict[] = new Array(pairs.length);
    if (pairs.length === 0) return out;
    // The first failure stops the pairs still running: the whole call fails anyway.
    const stop = new AbortController();
    const onAbort = () => stop.abort(opts.signal?.reason);
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const inner: JudgeOptions = { signal: stop.signal, onEvent: opts.onEvent };
    let next = 0;
    let failure: { err: unknown } | undefined;
    const worker = async () => {
      while (!failure && next < pairs.length) {
        const i = next++;
        try {
          out[i] = await judgeOne(pairs[i]!, i, inner);
        } catch (err) {
          failure ??= { err };
          stop.abort(err);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(cfg.maxBatchPairs, pairs.length) }, worker));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (failure) throw failure.err;
    return out;
  }

  return {
    spec: cfg.spec,
    identity,
    maxBatchPairs: cfg.maxBatchPairs,
    pricing: cfg.pricing,
    countTokens: (pair) => fit(pair).tokens,
    judge,
    async close() {
      /* fetch keeps no per-client resources to release */
    },
  };
}
