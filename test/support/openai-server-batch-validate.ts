/**
 * Validation of a batch input file, as OpenAI does it while a batch is
 * `validating`: every problem is reported at once (code, 1-based line, message,
 * param), and a file with any problem fails the batch. Codes: `empty_file`,
 * `invalid_json_line`, `missing_required_parameter`, `invalid_custom_id`,
 * `invalid_method`, `url_mismatch`, `duplicate_custom_id`, `model_mismatch`,
 * `too_many_tasks`, `token_limit_exceeded`. A request body the endpoint would
 * refuse is NOT a validation error: that request fails alone (400 in the
 * error file) when the batch runs.
 */
import type { BatchError } from './openai-server-batch-types.js';

/** A request of a validated batch. */
export interface BatchRequest {
  /** 0-based index among the requests of the file. */
  index: number;
  customId: string;
  body: unknown;
  /** The embedding inputs of the body (strings only). */
  texts: string[];
  tokens: number;
}

export interface ValidationLimits {
  maxRequests: number;
  maxInputs: number;
  maxEnqueuedTokens?: number;
}

export interface Validated {
  errors: BatchError[];
  /** When there is no error: */
  requests: BatchRequest[];
  tokens: number;
  model: string | null;
}

/** The strings of a request body's `input`. */
export function textsOf(body: unknown): string[] {
  const input = (body as { input?: unknown } | null)?.input;
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  return list.filter((t): t is string => typeof t === 'string');
}

/** The lines of a JSONL buffer that are not blank, with their 1-based line numbers. */
export function jsonlLines(input: Buffer): Array<{ lineNo: number; text: string }> {
  return input
    .toString('utf8')
    .split('\n')
    .map((text, i) => ({ lineNo: i + 1, text: text.replace(/\r$/, '') }))
    .filter((l) => l.text.trim() !== '');
}

/**
 * Check `input` for a batch on `endpoint`. `enqueuedTokens(model)` is what the
 * model's other unfinished batches hold (for `maxEnqueuedTokens`).
 */
export function validateBatchInput(
  input: Buffer,
  endpoint: string,
  limits: ValidationLimits,
  countTokens: (text: string) => number,
  enqueuedTokens: (model: string) => number,
): Validated {
  const errors: BatchError[] = [];
  const err = (code: string, message: string, line: number | null, param: string | null = null) =>
    errors.push({ code, message, line, param });
  const seen = new Map<string, number>();
  let model: { name: string; line: number } | undefined;
  let inputs = 0;
  const requests: BatchRequest[] = [];
  const lines = jsonlLines(input);
  for (const { lineNo, text } of lines) {
    let line: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
    try {
      line = JSON.parse(text);
    } catch {
      err('invalid_json_line', 'This line is not parseable as valid JSON.', lineNo);
      continue;
    }
    if (!line || typeof line !== 'object' || Array.isArray(line)) {
      err('invalid_json_line', 'This line is not a JSON object.', lineNo);
      continue;
    }
    let ok = true;
    for (const key of ['custom_id', 'method', 'url', 'body'] as const) {
      if (line[key] === undefined || line[key] === null) {
        err('missing_required_parameter', `Missing required parameter: '${key}'.`, lineNo, key);
        ok = false;
      }
    }
    if (!ok) continue;
    const { custom_id: customId, method, url, body } = line;
    if (typeof customId !== 'string' || customId === '') {
      err('invalid_custom_id', "'custom_id' must be a non-empty string.", lineNo, 'custom_id');
      continue;
    }
    if (method !== 'POST')
      err('invalid_method', `Invalid 'method' ${JSON.stringify(method)}: only POST is supported.`, lineNo, 'method');
    if (url !== endpoint) {
      err(
        'url_mismatch',
        `The URL ${JSON.stringify(url)} does not match the batch's endpoint '${endpoint}'.`,
        lineNo,
        'url',
      );
    }
    if (seen.has(customId)) {
      err(
        'duplicate_custom_id',
        `The custom_id '${customId}' is also used on line ${seen.get(customId)}. Each request's custom_id must be unique within a batch.`,
        lineNo,
        'custom_id',
      );
    } else seen.set(customId, lineNo);
    const lineModel = (body as { model?: unknown }).model;
    if (typeof lineModel === 'string') {
      if (!model) model = { name: lineModel, line: lineNo };
      else if (model.name !== lineModel) {
        err(
          'model_mismatch',
          `This line uses the model '${lineModel}', line ${model.line} uses '${model.name}'. A batch must use one model.`,
          lineNo,
          'body.model',
        );
      }
    }
    const texts = textsOf(body);
    inputs += texts.length;
    const tokens = texts.reduce((a, t) => a + countTokens(t), 0);
    requests.push({ index: requests.length, customId, body, texts, tokens });
  }
  if (lines.length === 0) err('empty_file', 'The batch input file is empty.', null);
  if (lines.length > limits.maxRequests) {
    err('too_many_tasks', `The batch has ${lines.length} requests; at most ${limits.maxRequests} are allowed.`, null);
  }
  if (inputs > limits.maxInputs) {
    err(
      'too_many_tasks',
      `The batch has ${inputs} embedding inputs; at most ${limits.maxInputs} are allowed across its requests.`,
      null,
    );
  }
  const tokens = requests.reduce((a, r) => a + r.tokens, 0);
  const limit = limits.maxEnqueuedTokens;
  if (limit !== undefined && model && errors.length === 0) {
    if (enqueuedTokens(model.name) + tokens > limit) {
      err(
        'token_limit_exceeded',
        `Enqueued token limit reached for ${model.name} in organization org-test. Limit: ${limit} enqueued tokens. Please try again once some in_progress batches have been completed.`,
        null,
      );
    }
  }
  return { errors, requests, tokens, model: model?.name ?? null };
}
