/**
 * The shapes shared by the measure registry and the measure
 * implementations: a family (trec_eval's TREC_MEAS), its parameters, and an
 * instance (a family with its parameters, printing one or more values).
 */
import type { ResRels } from './res-rels.js';

/**
 * How a family takes parameters (trec_eval's meas_init.c):
 * - `none`: no parameters (map, bpref, ...);
 * - `cutoffs`: positive integer cutoffs, one value each (P_10);
 * - `fractions`: number cutoffs, one value each, named with two decimals (iprec_at_recall_0.10);
 * - `numbers`: a list of numbers, one value named `family_<params>` (utility, set_F);
 * - `pairs`: `name=value` pairs, one value named `family_<params>` (ndcg gains, rbp's p).
 */
export type ParamKind = 'none' | 'cutoffs' | 'fractions' | 'numbers' | 'pairs';

export interface ParamPair {
  name: string;
  value: number;
}

/** trec_eval's settings that measures read (EPI). */
export interface MeasureEnv {
  relevanceLevel: number;
  /** trec_eval -N; embctl does not take it, so 0 as in trec_eval by default. */
  numDocsInColl: number;
}

/** A family with its parameters. */
export interface MeasureInstance {
  family: FamilyDef;
  /** `cutoffs` and `fractions` families: ascending. */
  cutoffs: number[];
  /** `numbers` families. */
  numbers: number[];
  /** `pairs` families. */
  pairs: ParamPair[];
  /** The parameter text appended to the name (`numbers`/`pairs` families), null for the defaults. */
  printable: string | null;
  /** The values' names, in print order. */
  names: string[];
}

/** How the `all` line is made from the per-query values. */
export type SummaryKind = 'mean' | 'sum' | 'geometric' | 'none';

export interface FamilyDef {
  /** trec_eval's name (`P`, `iprec_at_recall`, `rbp`). */
  name: string;
  params: ParamKind;
  /** Default cutoffs or numbers. */
  defaults: readonly number[];
  /** `long` values print as integers; `text` is relstring's; `runid` is the run's name. */
  value: 'long' | 'double' | 'text' | 'runid';
  /** Printed per query with -q. */
  perQuery: boolean;
  summary: SummaryKind;
  /** The values a gate can expect (null: not a gate metric). */
  range: readonly [number, number] | null;
  /** One number per name of the instance. */
  compute?: (rr: ResRels, env: MeasureEnv, inst: MeasureInstance) => number[];
  /** relstring: one string per name. */
  computeText?: (rr: ResRels, env: MeasureEnv, inst: MeasureInstance) => string[];
}
