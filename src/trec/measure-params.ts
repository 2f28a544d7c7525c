/**
 * A family's parameters (`P.5,10`, `iprec_at_recall.0.25,0.5`,
 * `utility.2,-1,0,0`, `rbp.p=0.8`) parsed and checked, and the names of the
 * values they print, as trec_eval's meas_init.c makes them: `P_10`,
 * `iprec_at_recall_0.25` (two decimals), `utility_2,-1,0,0`, `rbp_p=0.8`.
 * Unlike trec_eval, malformed parameters are refused rather than read as 0.
 */
import { formatFixed } from './format-fixed.js';
import { isLevelName } from './gains.js';
import { GAIN_FAMILIES } from './measure-families.js';
import type { FamilyDef, MeasureInstance, ParamPair } from './measure-types.js';

/** Parsed parameters, or the reason they are refused. */
export type Parsed<T> = { ok: T } | { problem: string };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** How many numbers a `numbers` family takes (undefined: one or more). */
const NUMBER_COUNT: Record<string, number> = { utility: 4, set_F: 1, relstring: 1 };

const items = (text: string) => text.split(',').map((s) => s.trim());

function parseCutoffs(f: FamilyDef, text: string): Parsed<number[]> {
  const list = items(text);
  const bad = list.filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s)));
  if (bad.length)
    return { problem: `${f.name} cutoffs must be whole numbers >= 1, not ${bad.map((s) => `"${s}"`).join(', ')}` };
  return sortedUnique(f, list.map(Number));
}

function parseFractions(f: FamilyDef, text: string): Parsed<number[]> {
  const list = items(text);
  const bad = list.filter((s) => !NUMBER.test(s) || Number(s) < 0 || !Number.isFinite(Number(s)));
  if (bad.length)
    return { problem: `${f.name} points must be numbers >= 0, not ${bad.map((s) => `"${s}"`).join(', ')}` };
  return sortedUnique(f, list.map(Number));
}

function sortedUnique(f: FamilyDef, values: number[]): Parsed<number[]> {
  const sorted = [...values].sort((a, b) => a - b);
  const names = sorted.map((v) => valueName(f, v));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return { problem: `${f.name}: two parameters both print as ${dup}` };
  return { ok: sorted };
}

function parseNumbers(f: FamilyDef, text: string): Parsed<number[]> {
  const list = items(text);
  const bad = list.filter((s) => !NUMBER.test(s) || !Number.isFinite(Number(s)));
  if (bad.length)
    return { problem: `${f.name} parameters must be numbers, not ${bad.map((s) => `"${s}"`).join(', ')}` };
  const want = NUMBER_COUNT[f.name];
  if (want !== undefined && list.length !== want)
    return { problem: `${f.name} takes ${want} number${want === 1 ? '' : 's'}, not ${list.length}` };
  const numbers = list.map(Number);
  if (f.name === 'relstring' && !(Number.isInteger(numbers[0]) && numbers[0]! >= 0)) {
    return { problem: `relstring's length must be a whole number >= 0, not "${list[0]}"` };
  }
  return { ok: numbers };
}

function parsePairs(f: FamilyDef, text: string): Parsed<ParamPair[]> {
  const pairs: ParamPair[] = [];
  const problems: string[] = [];
  const takesP = f.name === 'rbp' || f.name === 'rbp_resid';
  const takesLevels = GAIN_FAMILIES.has(f.name);
  for (const item of items(text)) {
    const m = /^([^=\s]+)=(.+)$/.exec(item);
    if (!m || !NUMBER.test(m[2]!) || !Number.isFinite(Number(m[2]))) {
      problems.push(`"${item}" is not name=number`);
      continue;
    }
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'p' && takesP) {
      if (!(Number(value) >= 0 && Number(value) <= 1)) problems.push(`p must be from 0 to 1, not ${value}`);
    } else if (!(isLevelName(name) && takesLevels)) {
      problems.push(
        `unknown parameter "${name}" (${[takesLevels ? '<level>=<gain>' : '', takesP ? 'p=<persistence>' : ''].filter(Boolean).join(' or ')})`,
      );
    }
    pairs.push({ name, value: Number(value) });
  }
  return problems.length ? { problem: `${f.name}.${text}: ${problems.join('; ')}` } : { ok: pairs };
}

/** The name of one value of a `cutoffs` or `fractions` family. */
export function valueName(f: FamilyDef, cutoff: number): string {
  return f.params === 'fractions' ? `${f.name}_${formatFixed(cutoff, 2)}` : `${f.name}_${cutoff}`;
}

/** An instance of `f` with trec_eval's parameter text (`5,10`), or with the defaults when `text` is null. */
export function makeInstance(f: FamilyDef, text: string | null): Parsed<MeasureInstance> {
  const inst: MeasureInstance = { family: f, cutoffs: [], numbers: [], pairs: [], printable: null, names: [] };
  if (text !== null && f.params === 'none') return { problem: `${f.name} takes no parameters (got "${text}")` };
  if (text !== null && text.trim() === '') return { problem: `${f.name}: empty parameters after "."` };
  switch (f.params) {
    case 'none':
      inst.names = [f.name];
      return { ok: inst };
    case 'cutoffs':
    case 'fractions': {
      const r =
        text === null
          ? { ok: [...f.defaults] }
          : f.params === 'cutoffs'
            ? parseCutoffs(f, text)
            : parseFractions(f, text);
      if ('problem' in r) return r;
      return { ok: withCutoffs(inst, r.ok) };
    }
    case 'numbers': {
      const r = text === null ? { ok: [...f.defaults] } : parseNumbers(f, text);
      if ('problem' in r) return r;
      inst.numbers = r.ok;
      break;
    }
    case 'pairs': {
      const r = text === null ? { ok: [] } : parsePairs(f, text);
      if ('problem' in r) return r;
      inst.pairs = r.ok;
      break;
    }
  }
  inst.printable = text;
  inst.names = [text === null ? f.name : `${f.name}_${text}`];
  return { ok: inst };
}

/** An instance of `f` with its default parameters. */
export function defaultInstance(f: FamilyDef): MeasureInstance {
  const made = makeInstance(f, null);
  if ('problem' in made) throw new Error(`${f.name}: bad default parameters: ${made.problem}`);
  return made.ok;
}

/** The instance with these cutoffs (ascending, unique) and their names. */
export function withCutoffs(inst: MeasureInstance, cutoffs: readonly number[]): MeasureInstance {
  const sorted = [...new Set(cutoffs)].sort((a, b) => a - b);
  return { ...inst, cutoffs: sorted, names: sorted.map((c) => valueName(inst.family, c)) };
}
