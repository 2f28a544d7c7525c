/**
 * Checking and fitting the texts of one embed call: non-empty strings, each
 * within the model's token limit (truncated or refused), with token counts.
 */
import { InputError } from '../../errors.js';
import type { ResolvedOpenAIOptions } from './options.js';
import type { Tokenizer } from './tokens.js';

export interface Prepared {
  texts: string[];
  tokens: number[];
  truncated: number;
}

export function prepareTexts(
  texts: string[],
  cfg: ResolvedOpenAIOptions,
  tokenizer: Tokenizer,
  name: string,
  where: string,
): Prepared {
  const problems: string[] = [];
  const out: string[] = new Array(texts.length);
  const tokens: number[] = new Array(texts.length);
  let truncated = 0;
  const limit = cfg.maxInputTokens;
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (typeof t !== 'string' || t.length === 0) {
      problems.push(
        `text ${i}: ${typeof t !== 'string' ? `not a string (${t === null ? 'null' : typeof t})` : 'empty'}`,
      );
      continue;
    }
    let n = tokenizer.count(t);
    let text = t;
    if (limit !== undefined && n > limit) {
      if (cfg.longTextPolicy === 'reject') {
        problems.push(`text ${i}: ${n} tokens, above the ${limit}-token limit of ${cfg.model}`);
        continue;
      }
      const cut = tokenizer.truncate(t, limit);
      text = cut.text;
      n = cut.tokens;
      truncated++;
    } else if (limit === undefined && n > cfg.maxBatchTokens) {
      problems.push(`text ${i}: ${n} tokens, above the request budget of ${cfg.maxBatchTokens}`);
      continue;
    }
    out[i] = text;
    tokens[i] = n;
  }
  if (problems.length) {
    const shown = problems.slice(0, 20);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw new InputError(
      problems.length === 1
        ? `${name}: ${problems[0]}${where}`
        : `${name}: ${problems.length} texts cannot be embedded${where}`,
      shown,
    );
  }
  return { texts: out, tokens, truncated };
}
