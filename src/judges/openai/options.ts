/**
 * Options of the `openai:<chat model>` judge, resolved once: OPENAI_BASE_URL
 * and OPENAI_API_KEY as the encoder reads them, defaults, and every problem
 * reported together as one InputError.
 */
import { resolveOpenAIConnection, type OpenAIConnection, type Tokenizer } from '../../encoders/index.js';
import { InputError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import type { BackoffPolicy } from '../../util/index.js';
import type { JudgePricing } from '../types.js';
import { promptOverhead } from './fit.js';
import { chatTokenizer, knownPricing } from './models.js';
import { promptProblems, promptSha256, UMBRELA_PROMPT, type JudgePrompt } from './prompt.js';

export interface OpenAIJudgeOptions {
  /** Default: OPENAI_API_KEY. Required for the official API; a placeholder is sent to custom servers. */
  apiKey?: string;
  /** Default: OPENAI_BASE_URL, else https://api.openai.com/v1. */
  baseURL?: string;
  /** Input token budget of one pair's prompt; the passage is cut first, then the query. Default 2048. */
  maxTokens?: number;
  /** Per-attempt timeout, whole request. Default 60 000 ms. */
  timeoutMs?: number;
  /** Attempts per request (429, 5xx, timeouts, dropped connections), first included. Default 6. */
  maxAttempts?: number;
  /** Retry delays (see util/backoff.ts); a Retry-After from the server is honoured. */
  backoff?: BackoffPolicy;
  /** Pairs one `judge` call may carry, sent concurrently (one request each). Default 1. */
  maxBatchPairs?: number;
  /** Price per 1M tokens; needed for cost estimates of models not in CHAT_MODEL_PRICES (models.ts). */
  pricing?: JudgePricing;
  /** Another rubric (its sha256 becomes the identity's revision). Default: UMBRELA_PROMPT. */
  prompt?: JudgePrompt;
  /** The spec string for messages and the identity. Default `openai:<model>`. */
  spec?: string;
  logger?: Logger;
  /** A fetch implementation (tests). */
  fetch?: typeof fetch;
  /** Where OPENAI_* variables are read. Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedJudgeOptions {
  model: string;
  spec: string;
  connection: OpenAIConnection;
  maxTokens: number;
  timeoutMs: number;
  maxAttempts: number;
  maxBatchPairs: number;
  pricing: JudgePricing | null;
  prompt: JudgePrompt;
  promptSha256: string;
  tokenizer: Tokenizer;
}

export const DEFAULT_JUDGE_MAX_TOKENS = 2048;
/** The least room a budget must leave for the query and the passage. */
const MIN_PAIR_TOKENS = 32;

function isPositiveInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0;
}

export function resolveJudgeOptions(modelGiven: string, options: OpenAIJudgeOptions): ResolvedJudgeOptions {
  const problems: string[] = [];
  const model = typeof modelGiven === 'string' ? modelGiven.trim() : '';
  if (!model) problems.push('model: required (e.g. openai:gpt-4o-mini)');
  const spec = options.spec ?? `openai:${model}`;
  const connection = resolveOpenAIConnection(
    { baseURL: options.baseURL, apiKey: options.apiKey },
    options.env ?? process.env,
    problems,
  );
  const num = (name: 'maxTokens' | 'timeoutMs' | 'maxAttempts' | 'maxBatchPairs', fallback: number): number => {
    const v = options[name];
    if (v === undefined) return fallback;
    if (!isPositiveInt(v)) {
      problems.push(`${name}: must be a positive integer`);
      return fallback;
    }
    return v;
  };
  const maxTokens = num('maxTokens', DEFAULT_JUDGE_MAX_TOKENS);
  const timeoutMs = num('timeoutMs', 60_000);
  const maxAttempts = num('maxAttempts', 6);
  const maxBatchPairs = num('maxBatchPairs', 1);
  const prompt = options.prompt ?? UMBRELA_PROMPT;
  problems.push(...promptProblems(prompt));
  const tokenizer = chatTokenizer(model);
  if (!problems.length) {
    const overhead = promptOverhead(prompt, tokenizer);
    if (maxTokens < overhead + MIN_PAIR_TOKENS) {
      problems.push(
        `maxTokens: ${maxTokens} leaves no room for the pair: the rubric alone takes ${overhead} tokens; give at least ${overhead + MIN_PAIR_TOKENS}`,
      );
    }
  }
  const pricing = options.pricing ?? knownPricing(model);
  if (options.pricing) {
    const p = options.pricing;
    const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (!ok(p.inputPerMTokens) || !ok(p.outputPerMTokens) || !ok(p.outputTokensPerPair)) {
      problems.push('pricing: inputPerMTokens, outputPerMTokens and outputTokensPerPair are numbers ≥ 0');
    }
  }
  if (problems.length) {
    const name = model ? `judge openai:${model}` : 'openai judge';
    throw new InputError(
      problems.length === 1 ? `${name}: ${problems[0]}` : `${name}: ${problems.length} problems in its options`,
      problems,
    );
  }
  return {
    model,
    spec,
    connection,
    maxTokens,
    timeoutMs,
    maxAttempts,
    maxBatchPairs,
    pricing,
    prompt,
    promptSha256: promptSha256(prompt),
    tokenizer,
  };
}
