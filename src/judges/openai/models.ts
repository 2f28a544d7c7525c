/**
 * What the judge knows about OpenAI's chat models: prices (for cost
 * estimates) and tokenizers (for budgets and estimates). Any other model (a
 * local server's, or an OpenAI model not listed) has no known price: its
 * pricing is null unless the `pricing` option gives one, and its tokens are
 * estimated as ceil(utf8 bytes / 4).
 */
import { approxTokenizer, cl100kTokenizer, o200kTokenizer, type Tokenizer } from '../../encoders/index.js';
import type { JudgePricing } from '../types.js';

/** `{"grade": N}` is 5–6 tokens; a little slack for whitespace. */
export const OUTPUT_TOKENS_PER_PAIR = 8;

/**
 * USD per 1M tokens, standard (not Batch API) prices as listed on
 * https://openai.com/api/pricing/ in 2025. Prices change: pass `pricing` to
 * override, and check before relying on an estimate.
 */
export const CHAT_MODEL_PRICES: Readonly<Record<string, { input: number; output: number }>> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
};

/** The table's price of a model, or null for a model not in it (see the header). */
export function knownPricing(model: string): JudgePricing | null {
  const p = Object.prototype.hasOwnProperty.call(CHAT_MODEL_PRICES, model) ? CHAT_MODEL_PRICES[model] : undefined;
  return p
    ? { inputPerMTokens: p.input, outputPerMTokens: p.output, outputTokensPerPair: OUTPUT_TOKENS_PER_PAIR }
    : null;
}

/** tiktoken's table: GPT-4o, GPT-4.1 and later use o200k_base; GPT-4 and GPT-3.5 cl100k_base. */
export function chatTokenizer(model: string): Tokenizer {
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o)/.test(model)) return o200kTokenizer;
  if (/^(gpt-4|gpt-3\.5)/.test(model)) return cl100kTokenizer;
  return approxTokenizer;
}
