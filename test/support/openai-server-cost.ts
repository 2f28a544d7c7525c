/**
 * What the test server's traffic would cost, from a per-model price table
 * (USD per 1M tokens). These are test prices shaped like OpenAI's (the Batch
 * API at half the online price), so a benchmark can report a cost; they are
 * not a price list to rely on.
 */
import type { BatchStats } from './openai-server-batch-types.js';

export interface ModelPrice {
  /** Online input tokens, USD per 1M. */
  input: number;
  /** Batch API input tokens, USD per 1M (default input / 2). */
  batchInput?: number;
}

export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'text-embedding-3-small': { input: 0.02 },
  'text-embedding-3-large': { input: 0.13 },
  'text-embedding-ada-002': { input: 0.1 },
};

/** Models not in the table. */
export const FALLBACK_PRICE: ModelPrice = { input: 0.02 };

export function priceOf(prices: Record<string, ModelPrice>, model: string): Required<ModelPrice> {
  const p = prices[model] ?? FALLBACK_PRICE;
  return { input: p.input, batchInput: p.batchInput ?? p.input / 2 };
}

export interface ModelCost {
  onlineTokens: number;
  batchTokens: number;
  usd: number;
}

export interface CostReport {
  /** /v1/embeddings tokens billed (200 answers) and their cost. */
  online: { tokens: number; usd: number };
  /** Batch API tokens billed (requests that ran and answered 200) and their cost. */
  batch: { tokens: number; usd: number };
  usd: number;
  byModel: Record<string, ModelCost>;
}

/** The cost of the embeddings traffic: online records answered 200, and batch tokens per model. */
export function costReport(
  online: ReadonlyArray<{ status: number; model: string; tokens: number }>,
  batch: BatchStats,
  prices: Record<string, ModelPrice>,
): CostReport {
  const byModel: Record<string, ModelCost> = {};
  const row = (model: string) => (byModel[model] ??= { onlineTokens: 0, batchTokens: 0, usd: 0 });
  for (const r of online) if (r.status === 200) row(r.model).onlineTokens += r.tokens;
  for (const [model, tokens] of batch.tokensByModel) row(model).batchTokens += tokens;
  const report: CostReport = { online: { tokens: 0, usd: 0 }, batch: { tokens: 0, usd: 0 }, usd: 0, byModel };
  for (const [model, c] of Object.entries(byModel)) {
    const p = priceOf(prices, model);
    const online = (c.onlineTokens * p.input) / 1e6;
    const batchUsd = (c.batchTokens * p.batchInput) / 1e6;
    c.usd = online + batchUsd;
    report.online.tokens += c.onlineTokens;
    report.online.usd += online;
    report.batch.tokens += c.batchTokens;
    report.batch.usd += batchUsd;
    report.usd += c.usd;
  }
  return report;
}
