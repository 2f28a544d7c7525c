/** stats: paired significance tests, bootstrap intervals, quantiles, a seeded PRNG. Pure. */
export {
  randomizationTest,
  bootstrapConfidenceInterval,
  alignByQuery,
  pairedDifferences,
  DEFAULT_SEED,
  type RandomizationOptions,
  type RandomizationResult,
  type BootstrapOptions,
  type BootstrapResult,
} from './significance.js';
export { createRandom, type Random } from './prng.js';
export { mean, quantile, quantileSorted } from './descriptive.js';
export { accuracy, cohensKappa, kendallTau } from './agreement.js';
