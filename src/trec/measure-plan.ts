/**
 * Which measures to compute, from trec_eval-style `-m` arguments: a set
 * (`official`, `all_trec`, `set`), a family with its default parameters
 * (`P`, `ndcg`), a family with parameters (`P.5,10`, `rbp.p=0.8`), or, as
 * an embctl extension, one printed value or alias (`P_10`, `nDCG@10`,
 * `RBP@0.8`). The result follows trec_eval's print order whatever the order
 * of the arguments; cutoffs within a family are ascending.
 */
import { InputError } from '../errors.js';
import { FAMILIES, NICKNAMES, familyNamed, unsupportedReason } from './measure-families.js';
import { defaultInstance, makeInstance, withCutoffs } from './measure-params.js';
import type { FamilyDef, MeasureInstance } from './measure-types.js';
import { parseMeasure } from './measures.js';

/** embctl's default measures when none are named (the library; the CLI defaults to trec_eval's `official`). */
export const DEFAULT_MEASURES = [
  'num_ret',
  'num_rel',
  'num_rel_ret',
  'map',
  'recip_rank',
  'P',
  'recall',
  'ndcg',
  'ndcg_cut',
  'success',
  'judged',
];
const DEFAULT_CUTOFF_FAMILIES = new Set(['P', 'recall', 'ndcg_cut', 'success', 'judged']);

interface Request {
  /** Named by family or set: the default parameters (or the explicit ones when given). */
  plain: boolean;
  /** The first `family.params` given (trec_eval uses the first). */
  explicit: MeasureInstance | null;
  /** Single cutoffs named by value (`P_10`, `P@10`). */
  cutoffs: number[];
  /** Single parameterised values named by value (`rbp_p=0.8`), by parameter text. */
  values: Map<string, MeasureInstance>;
}

export interface ResolveOptions {
  /** Measure names, families with parameters, sets or aliases. Default: embctl's set (DEFAULT_MEASURES). */
  measures?: readonly string[];
  /** Cutoffs for P, recall, ndcg_cut, success and judged when `measures` is not given. */
  cutoffs?: readonly number[];
}

/** The measure instances to compute, in print order. Throws InputError listing every bad name. */
export function resolveMeasures(options: ResolveOptions = {}): MeasureInstance[] {
  const requests = new Map<FamilyDef, Request>();
  const request = (f: FamilyDef): Request => {
    let r = requests.get(f);
    if (!r) requests.set(f, (r = { plain: false, explicit: null, cutoffs: [], values: new Map() }));
    return r;
  };
  const problems: string[] = [];
  if (options.measures) {
    for (const arg of options.measures) {
      const problem = addArgument(arg.trim(), request);
      if (problem) problems.push(problem);
    }
  } else {
    if (options.cutoffs) checkCutoffs(options.cutoffs);
    for (const name of DEFAULT_MEASURES) {
      const f = familyNamed(name)!;
      const r = request(f);
      if (options.cutoffs && DEFAULT_CUTOFF_FAMILIES.has(name)) r.cutoffs.push(...options.cutoffs);
      else r.plain = true;
    }
  }
  if (problems.length)
    throw new InputError(`Unknown or malformed measure${problems.length === 1 ? '' : 's'}`, problems);
  const out: MeasureInstance[] = [];
  for (const f of FAMILIES) {
    const r = requests.get(f);
    if (r) out.push(...instancesOf(f, r));
  }
  return out;
}

function checkCutoffs(cutoffs: readonly number[]): void {
  const bad = cutoffs.filter((k) => !Number.isSafeInteger(k) || k < 1);
  if (bad.length)
    throw new InputError(
      'Cutoffs must be positive integers',
      bad.map((k) => `bad cutoff: ${k}`),
    );
}

/** Record one argument; returns a problem, or undefined. */
function addArgument(arg: string, request: (f: FamilyDef) => Request): string | undefined {
  const set = NICKNAMES[arg];
  if (set) {
    for (const name of set) request(familyNamed(name)!).plain = true;
    return undefined;
  }
  const unsupported = unsupportedReason(arg.split('.')[0]!);
  if (unsupported) return unsupported;
  const whole = familyNamed(arg);
  if (whole) {
    request(whole).plain = true;
    return undefined;
  }
  const dot = arg.indexOf('.');
  const head = dot > 0 ? arg.slice(0, dot) : '';
  const f = familyNamed(head);
  if (f) {
    const made = makeInstance(f, arg.slice(dot + 1));
    if ('problem' in made) return made.problem;
    const r = request(f);
    r.plain = true;
    r.explicit ??= made.ok;
    return undefined;
  }
  if (NICKNAMES[head]) return `"${head}" is a set of measures; it takes no parameters`;
  try {
    const spec = parseMeasure(arg);
    const fam = familyNamed(spec.family)!;
    const r = request(fam);
    if (spec.k !== undefined) r.cutoffs.push(spec.k);
    else if (spec.fraction !== undefined) r.cutoffs.push(spec.fraction);
    else if (spec.params !== undefined) {
      const made = makeInstance(fam, spec.params);
      if ('ok' in made) r.values.set(spec.params, made.ok);
    } else r.plain = true;
    return undefined;
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}

function instancesOf(f: FamilyDef, r: Request): MeasureInstance[] {
  if (f.params === 'cutoffs' || f.params === 'fractions') {
    const cutoffs = [...(r.explicit ? r.explicit.cutoffs : r.plain ? f.defaults : []), ...r.cutoffs];
    return cutoffs.length ? [withCutoffs(defaultInstance(f), cutoffs)] : [];
  }
  const out: MeasureInstance[] = [];
  if (r.plain) out.push(r.explicit ?? defaultInstance(f));
  for (const v of r.values.values()) if (!out.some((o) => o.names[0] === v.names[0])) out.push(v);
  return out;
}
