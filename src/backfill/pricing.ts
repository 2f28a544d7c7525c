/**
 * Prices in USD per million input tokens, for the cost estimate of
 * `backfill --dry-run` and the `--max-cost` stop. Override with
 * `--price-per-mtok`. Built-in and local encoders cost nothing.
 */
export const PRICE_PER_MILLION_TOKENS: Readonly<Record<string, number>> = {
  'openai:text-embedding-3-small': 0.02,
  'openai:text-embedding-3-large': 0.13,
  'openai:text-embedding-ada-002': 0.1,
};

export function pricePerMillion(encoderName: string, override?: number): number | undefined {
  if (override !== undefined) return override;
  if (encoderName.startsWith('hash:') || encoderName.startsWith('local:')) return 0;
  return PRICE_PER_MILLION_TOKENS[encoderName];
}

export function costOf(tokens: number, perMillion: number | undefined): number {
  return perMillion === undefined ? 0 : (tokens * perMillion) / 1_000_000;
}

/** The Batch API bills input tokens at half the online price. */
export const BATCH_API_PRICE_FACTOR = 0.5;
