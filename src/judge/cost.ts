/** What judging pairs costs: tokens, and USD at the judge's prices (0 for a local judge). */
import type { Judge, JudgePair } from '../judges/index.js';

export interface JudgeCost {
  pairs: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

export function costOfPairs(judge: Judge, pairs: readonly JudgePair[]): JudgeCost {
  let inputTokens = 0;
  for (const p of pairs) inputTokens += judge.countTokens(p);
  const price = judge.pricing;
  const outputTokens = price ? price.outputTokensPerPair * pairs.length : 0;
  const usd = price ? (inputTokens * price.inputPerMTokens + outputTokens * price.outputPerMTokens) / 1e6 : 0;
  return { pairs: pairs.length, inputTokens, outputTokens, usd };
}

export function addCost(a: JudgeCost, b: JudgeCost): JudgeCost {
  return {
    pairs: a.pairs + b.pairs,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    usd: a.usd + b.usd,
  };
}

export const NO_COST: JudgeCost = { pairs: 0, inputTokens: 0, outputTokens: 0, usd: 0 };
