/**
 * Measure names as trec_eval prints them (`P_10`, `ndcg_cut_10`,
 * `iprec_at_recall_0.10`, `rbp_p=0.8`, `bpref`), the friendly aliases gates
 * and reports use (`P@10`, `nDCG@10`, `MRR`, `R-prec`, `RBP@0.8`), and the
 * mapping between them. Aliases are case-insensitive; trec_eval names are not.
 */
import { InputError } from '../errors.js';
import { FAMILIES, GAIN_FAMILIES, familyNamed, unsupportedReason } from './measure-families.js';
import { makeInstance } from './measure-params.js';

/** A family name (`P`, `ndcg_cut`, `bpref`, `rbp`, ...; see measure-families.ts). */
export type MeasureFamily = string;

/** One printed value: its family and the parameter that names it. */
export interface MeasureSpec {
  family: MeasureFamily;
  /** The integer cutoff of a cutoff family (P, recall, ndcg_cut, map_cut, relative_P, success, unj, judged). */
  k?: number;
  /** The point of iprec_at_recall or Rprec_mult (0.1, 1.5). */
  fraction?: number;
  /** The parameter text of a parameterised value (`p=0.8` in `rbp_p=0.8`). */
  params?: string;
  /** trec_eval name, e.g. `ndcg_cut_10`. */
  name: string;
}

/** Default cutoffs of the families embctl computes by default (judged follows trec_eval's unj). */
export const DEFAULT_CUTOFFS = {
  P: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  recall: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  ndcg_cut: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  success: [1, 5, 10],
  judged: [5, 10, 20],
} as const satisfies Record<string, readonly number[]>;

/** `alias@K` -> cutoff family. */
const AT_ALIASES: Record<string, string> = {
  p: 'P',
  r: 'recall',
  recall: 'recall',
  ndcg: 'ndcg_cut',
  hit: 'success',
  success: 'success',
  judged: 'judged',
  map: 'map_cut',
};
const AT_ALIAS_OF: Record<string, string> = {
  P: 'P',
  recall: 'R',
  ndcg_cut: 'nDCG',
  success: 'hit',
  judged: 'Judged',
  map_cut: 'MAP',
};
const SIMPLE_ALIASES: Record<string, string> = {
  mrr: 'recip_rank',
  map: 'map',
  ndcg: 'ndcg',
  'r-prec': 'Rprec',
  rbp: 'rbp',
};
const SIMPLE_ALIAS_OF: Record<string, string> = { recip_rank: 'MRR', map: 'MAP', Rprec: 'R-prec', rbp: 'RBP' };

/** Families by decreasing name length, so `ndcg_cut_10` is read as ndcg_cut before ndcg. */
const BY_LENGTH = [...FAMILIES].sort((a, b) => b.name.length - a.name.length);

/**
 * Map a measure name or alias to its trec_eval name: `P@10`→`P_10`, `R@100`→`recall_100`,
 * `nDCG@10`→`ndcg_cut_10`, `MRR`→`recip_rank`, `MAP`→`map`, `MAP@10`→`map_cut_10`,
 * `hit@5`→`success_5`, `Judged@10`→`judged_10`, `R-prec`→`Rprec`, `RBP@0.8`→`rbp_p=0.8`.
 * trec names pass through. Throws InputError for an unknown name.
 */
export function toTrecName(name: string): string {
  return parseMeasure(name).name;
}

/** Map a trec_eval name to its friendly alias (`ndcg_cut_10`→`nDCG@10`); names without one pass through. */
export function toAlias(trecName: string): string {
  const spec = tryParse(trecName);
  if (!spec) return trecName;
  if (spec.k !== undefined && AT_ALIAS_OF[spec.family]) return `${AT_ALIAS_OF[spec.family]}@${spec.k}`;
  if (spec.family === 'rbp' && spec.params !== undefined) {
    const m = /^p=(.+)$/.exec(spec.params);
    if (m && `p=${String(Number(m[1]))}` === spec.params) return `RBP@${m[1]}`;
    return spec.name;
  }
  return SIMPLE_ALIAS_OF[spec.name] ?? spec.name;
}

/** Parse a printed measure name or alias into its family and parameter. Throws InputError if unknown. */
export function parseMeasure(name: string): MeasureSpec {
  const spec = tryParse(name);
  if (spec) return spec;
  const unsupported = unsupportedReason(name.trim()) ?? unsupportedReason(name.trim().split('.')[0]!);
  if (unsupported) throw new InputError(unsupported);
  throw new InputError(`Unknown measure "${name}"`, [
    `trec_eval names: ${FAMILIES.map((f) => (f.params === 'cutoffs' ? `${f.name}_K` : f.params === 'fractions' ? `${f.name}_X` : f.name)).join(', ')}`,
    'aliases: MAP, MRR, R-prec, RBP, P@K, R@K, nDCG@K, MAP@K, hit@K, Judged@K, RBP@p',
  ]);
}

function tryParse(raw: string): MeasureSpec | null {
  const name = raw.trim();
  const simple = SIMPLE_ALIASES[name.toLowerCase()];
  if (simple) return { family: simple, name: simple };
  const at = /^([A-Za-z]+)@(.+)$/.exec(name);
  if (at) return aliasAt(at[1]!.toLowerCase(), at[2]!);
  const exact = familyNamed(name);
  if (exact) return exact.params === 'cutoffs' || exact.params === 'fractions' ? null : { family: name, name };
  for (const f of BY_LENGTH) {
    if (!name.startsWith(`${f.name}_`)) continue;
    const suffix = name.slice(f.name.length + 1);
    if (f.params === 'cutoffs' && /^\d+$/.test(suffix) && Number(suffix) >= 1 && Number.isSafeInteger(Number(suffix))) {
      return { family: f.name, k: Number(suffix), name: `${f.name}_${Number(suffix)}` };
    }
    if (f.params === 'fractions') {
      const made = makeInstance(f, suffix);
      if ('ok' in made && made.ok.cutoffs.length === 1)
        return { family: f.name, fraction: made.ok.cutoffs[0]!, name: made.ok.names[0]! };
    }
    if (f.params === 'numbers' || f.params === 'pairs') {
      const made = makeInstance(f, suffix);
      if ('ok' in made) return { family: f.name, params: suffix, name };
    }
  }
  return null;
}

function aliasAt(alias: string, param: string): MeasureSpec | null {
  if (alias === 'rbp') {
    const p = Number(param);
    if (!/^\d*\.?\d+$/.test(param) || !(p >= 0 && p <= 1)) return null;
    const params = `p=${String(p)}`;
    return { family: 'rbp', params, name: `rbp_${params}` };
  }
  const family = AT_ALIASES[alias];
  if (!family || !/^\d+$/.test(param)) return null;
  const k = Number(param);
  if (!Number.isSafeInteger(k) || k < 1) return null;
  return { family, k, name: `${family}_${k}` };
}

/**
 * The values a gate on this measure can expect, or null when it is not a
 * gate metric (counts, runid, relstring). Gain measures with custom gains
 * (`ndcg_1=-1`) can leave [0, 1].
 */
export function measureRange(name: string): readonly [number, number] | null {
  const spec = parseMeasure(name);
  const f = familyNamed(spec.family)!;
  if (f.range && spec.params && GAIN_FAMILIES.has(f.name) && f.name !== 'rbp' && /(^|,)[+-]?\d+=/.test(spec.params)) {
    return [-Infinity, Infinity];
  }
  return f.range;
}

/** Whether the overall value is a geometric mean over queries (gm_map, gm_bpref). */
export function isGeometricMean(name: string): boolean {
  return familyNamed(parseMeasure(name).family)?.summary === 'geometric';
}
