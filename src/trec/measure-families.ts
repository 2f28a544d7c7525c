/**
 * Every measure family embctl computes, in trec_eval's print order
 * (measures.c), with how each takes parameters, prints and averages, and
 * trec_eval's measure sets (`official`, `all_trec`, `set`). Judged@K
 * (`judged`) is embctl's own and comes last.
 */
import * as cut from './measures-cutoff.js';
import * as gain from './measures-gain.js';
import * as interp from './measures-interpolated.js';
import * as ranked from './measures-ranked.js';
import * as set from './measures-set.js';
import type { FamilyDef } from './measure-types.js';

const CUTOFFS = [5, 10, 15, 20, 30, 100, 200, 500, 1000];
const RECALL_POINTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const R_MULTIPLES = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0];
const UNIT: readonly [number, number] = [0, 1];
const ANY: readonly [number, number] = [-Infinity, Infinity];

type Def = Omit<FamilyDef, 'params' | 'defaults' | 'value' | 'perQuery' | 'summary' | 'range'> & Partial<FamilyDef>;

/** A family with the common settings: no parameters, a double per query, mean, range [0, 1]. */
function family(d: Def): FamilyDef {
  return { params: 'none', defaults: [], value: 'double', perQuery: true, summary: 'mean', range: UNIT, ...d };
}

const count = (name: string, compute: FamilyDef['compute']): FamilyDef =>
  family({ name, compute, value: 'long', summary: 'sum', range: null });

export const FAMILIES: readonly FamilyDef[] = [
  family({ name: 'runid', value: 'runid', perQuery: false, summary: 'none', range: null }),
  family({ name: 'num_q', value: 'long', perQuery: false, summary: 'none', range: null }),
  count('num_ret', ranked.numRet),
  count('num_rel', ranked.numRel),
  count('num_rel_ret', ranked.numRelRet),
  family({ name: 'map', compute: ranked.averagePrecision }),
  family({ name: 'gm_map', compute: ranked.averagePrecision, perQuery: false, summary: 'geometric' }),
  family({ name: 'Rprec', compute: ranked.rPrecision }),
  family({ name: 'bpref', compute: ranked.bpref }),
  family({ name: 'recip_rank', compute: ranked.reciprocalRank }),
  family({ name: 'iprec_at_recall', params: 'fractions', defaults: RECALL_POINTS, compute: interp.iprecAtRecall }),
  family({ name: 'P', params: 'cutoffs', defaults: CUTOFFS, compute: cut.precisionAt }),
  family({
    name: 'relstring',
    params: 'numbers',
    defaults: [10],
    value: 'text',
    summary: 'none',
    range: null,
    computeText: set.relstring,
  }),
  family({ name: 'recall', params: 'cutoffs', defaults: CUTOFFS, compute: cut.recallAt }),
  family({ name: 'infAP', compute: ranked.infAP }),
  family({ name: 'gm_bpref', compute: ranked.bpref, perQuery: false, summary: 'geometric' }),
  family({ name: 'Rprec_mult', params: 'fractions', defaults: R_MULTIPLES, compute: interp.rPrecisionMultiples }),
  family({ name: 'utility', params: 'numbers', defaults: [1, -1, 0, 0], range: ANY, compute: set.utility }),
  family({ name: '11pt_avg', params: 'numbers', defaults: RECALL_POINTS, compute: interp.elevenPointAverage }),
  family({ name: 'binG', compute: ranked.binG }),
  family({ name: 'G', params: 'pairs', compute: gain.gMeasure }),
  family({ name: 'ndcg', params: 'pairs', compute: gain.ndcg }),
  family({ name: 'ndcg_rel', params: 'pairs', compute: gain.ndcgRel }),
  family({ name: 'Rndcg', params: 'pairs', compute: gain.rNdcg }),
  family({ name: 'ndcg_cut', params: 'cutoffs', defaults: CUTOFFS, compute: cut.ndcgAt }),
  family({ name: 'map_cut', params: 'cutoffs', defaults: CUTOFFS, compute: cut.averagePrecisionAt }),
  family({ name: 'relative_P', params: 'cutoffs', defaults: CUTOFFS, compute: cut.relativePrecisionAt }),
  family({ name: 'success', params: 'cutoffs', defaults: [1, 5, 10], compute: cut.successAt }),
  family({ name: 'set_P', compute: set.setPrecision }),
  family({ name: 'set_relative_P', compute: set.setRelativePrecision }),
  family({ name: 'set_recall', compute: set.setRecall }),
  family({ name: 'set_map', compute: set.setMap }),
  family({ name: 'set_F', params: 'numbers', defaults: [1], compute: set.setF }),
  count('num_nonrel_judged_ret', ranked.numNonrelJudgedRet),
  family({ name: 'rbp', params: 'pairs', compute: gain.rbp }),
  family({ name: 'rbp_resid', params: 'pairs', compute: gain.rbpResidual }),
  family({ name: 'unj', params: 'cutoffs', defaults: [5, 10, 20], compute: cut.unjudgedAt }),
  family({ name: 'judged', params: 'cutoffs', defaults: [5, 10, 20], compute: cut.judgedAt }),
];

const BY_NAME = new Map(FAMILIES.map((f) => [f.name, f]));

export function familyNamed(name: string): FamilyDef | undefined {
  return BY_NAME.get(name);
}

/** Families that take `level=gain` parameters. */
export const GAIN_FAMILIES = new Set(['G', 'ndcg', 'ndcg_rel', 'Rndcg', 'rbp']);

/** trec_eval's measure sets (measures.c), by name. */
export const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  official: [
    'runid',
    'num_q',
    'num_ret',
    'num_rel',
    'num_rel_ret',
    'map',
    'gm_map',
    'Rprec',
    'bpref',
    'recip_rank',
    'iprec_at_recall',
    'P',
  ],
  all_trec: [
    'runid',
    'num_q',
    'num_ret',
    'num_rel',
    'num_rel_ret',
    'map',
    'gm_map',
    'Rprec',
    'bpref',
    'recip_rank',
    'iprec_at_recall',
    'P',
    'relstring',
    'recall',
    'unj',
    'rbp',
    'rbp_resid',
    'infAP',
    'gm_bpref',
    'utility',
    '11pt_avg',
    'ndcg',
    'relative_P',
    'Rprec_mult',
    'success',
    'map_cut',
    'ndcg_cut',
    'ndcg_rel',
    'Rndcg',
    'binG',
    'G',
    'set_P',
    'set_recall',
    'set_relative_P',
    'set_map',
    'set_F',
    'num_nonrel_judged_ret',
  ],
  set: [
    'runid',
    'num_q',
    'num_ret',
    'num_rel',
    'num_rel_ret',
    'utility',
    'set_P',
    'set_recall',
    'set_relative_P',
    'set_map',
    'set_F',
  ],
};

/** trec_eval measures and sets that need other judgment formats (preferences, judgment groups). */
export const NEEDS_OTHER_QRELS = new Set([
  'all_prefs',
  'prefs',
  'qrels_jg',
  'map_avgjg',
  'P_avgjg',
  'Rprec_mult_avgjg',
  'prefs_num_prefs_poss',
  'prefs_num_prefs_ful',
  'prefs_num_prefs_ful_ret',
  'prefs_simp',
  'prefs_pair',
  'prefs_avgjg',
  'prefs_avgjg_Rnonrel',
  'prefs_simp_ret',
  'prefs_pair_ret',
  'prefs_avgjg_ret',
  'prefs_avgjg_Rnonrel_ret',
  'prefs_simp_imp',
  'prefs_pair_imp',
  'prefs_avgjg_imp',
]);

/** trec_eval measures outside -m all_trec that embctl does not compute. */
export const NOT_PORTED = new Set(['dcg', 'ideal_dcg', 'yaap']);

/** Why a trec_eval measure or set name is not computed, or undefined when it is not one of those. */
export function unsupportedReason(name: string): string | undefined {
  if (NEEDS_OTHER_QRELS.has(name))
    return `"${name}" needs preference or judgment-group qrels, which embctl does not read`;
  if (NOT_PORTED.has(name)) return `"${name}" is a trec_eval measure outside -m all_trec that embctl does not compute`;
  return undefined;
}
