import { InputError } from '../errors.js';

export type JudgeProvider = 'cross-encoder' | 'openai' | 'file';

export interface ParsedJudgeSpec {
  provider: JudgeProvider;
  /** Folder or model id (cross-encoder), chat model (openai), labels file (file). */
  target: string;
}

const PROVIDERS: readonly JudgeProvider[] = ['cross-encoder', 'openai', 'file'];

/** `cross-encoder:./models/ms-marco-MiniLM-L-6-v2`, `openai:gpt-4o-mini`, `file:labels.jsonl`. */
export function parseJudgeSpec(spec: string): ParsedJudgeSpec {
  const s = spec.trim();
  const i = s.indexOf(':');
  const provider = (i < 0 ? s : s.slice(0, i)) as JudgeProvider;
  const target = i < 0 ? '' : s.slice(i + 1).trim();
  if (!PROVIDERS.includes(provider)) {
    throw new InputError(
      `unknown judge "${spec}": use cross-encoder:<model folder or id>, openai:<chat model> or file:<labels.jsonl>`,
    );
  }
  if (!target) {
    const example = {
      'cross-encoder': 'cross-encoder:./models/ms-marco-MiniLM-L-6-v2',
      openai: 'openai:gpt-4o-mini',
      file: 'file:labels.jsonl',
    }[provider];
    throw new InputError(`judge "${spec}" names no ${provider === 'file' ? 'file' : 'model'}: e.g. ${example}`);
  }
  return { provider, target };
}

/** Grade from a raw score by ascending thresholds: the number of thresholds the score reaches. */
export function gradeByThresholds(raw: number, thresholds: readonly number[]): number {
  let g = 0;
  for (const t of thresholds) if (raw >= t) g++;
  return g;
}

/** Why thresholds are unusable (need 3, finite, strictly ascending), or undefined. */
export function thresholdsProblem(thresholds: readonly number[]): string | undefined {
  if (thresholds.length !== 3 || thresholds.some((t) => !Number.isFinite(t)))
    return 'thresholds are three finite numbers, the lowest score of grades 1, 2 and 3 (e.g. -2,0,2)';
  if (!(thresholds[0]! < thresholds[1]! && thresholds[1]! < thresholds[2]!))
    return 'thresholds must ascend: the lowest score of grade 1, then of grade 2, then of grade 3';
  return undefined;
}
