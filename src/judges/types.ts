/**
 * One interface for every relevance judge (README "Judging"; ARCHITECTURE.md,
 * judges/). A judge grades (query, passage) pairs 0–3 on the UMBRELA/TREC
 * scale: 0 not relevant, 1 related, 2 highly relevant, 3 perfectly relevant.
 * A judge is chosen by a spec string as an encoder is:
 * `cross-encoder:<folder or model id>`, `openai:<chat model>`, or
 * `file:<labels.jsonl>` (human labels, imported rather than judged).
 */
import type { EncoderEvent } from '../encoders/index.js';

/** The highest grade a judge gives. */
export const MAX_JUDGE_GRADE = 3;

/** The judge of human labels (imported files, spreadsheet exports). */
export const HUMAN_JUDGE = 'human';

export type JudgeKind = 'cross-encoder' | 'openai' | 'human';

/** What makes two judges give the same grade to the same pair. Stored with every judgment. */
export interface JudgeIdentity {
  /**
   * The stable id judgments are stored and looked up under: equal ids never
   * judge the same pair twice. `human`; `openai:<model>@<prompt sha256, 12 hex>`;
   * `cross-encoder:<model name>@<model files sha256, 12 hex>/<thresholds>`.
   */
  id: string;
  kind: JudgeKind;
  /** The spec string as the user gave it. */
  spec: string;
  /** The model id or folder; null for `human`. */
  model: string | null;
  /** The model files' sha256 (cross-encoder) or the prompt's sha256 (openai); null for `human`. */
  revision: string | null;
  /** Everything else that changes a grade (thresholds, prompt version, temperature, token budget). Never secrets. */
  settings: Record<string, string | number | boolean | null | number[]>;
}

export interface JudgePair {
  query: string;
  passage: string;
}

/** A judge's answer for one pair. */
export type JudgeVerdict =
  | {
      ok: true;
      /** 0..MAX_JUDGE_GRADE. */
      grade: number;
      /** The judge's own score: a cross-encoder's logit, an LLM's grade as a number. */
      raw: number;
    }
  | {
      ok: false;
      /** One line: why no grade (e.g. `the answer is not JSON {"grade": 0..3}: "Relevant."`). */
      reason: string;
    };

/** USD per million tokens; `outputTokensPerPair` estimates the answer's length. */
export interface JudgePricing {
  inputPerMTokens: number;
  outputPerMTokens: number;
  outputTokensPerPair: number;
}

export interface JudgeOptions {
  signal?: AbortSignal;
  /** Requests, responses, 429s and retries, as encoders report them (the quota listens). */
  onEvent?: (event: EncoderEvent) => void;
}

export interface Judge {
  readonly spec: string;
  readonly identity: JudgeIdentity;
  /** Most pairs one `judge` call may carry. */
  readonly maxBatchPairs: number;
  /** Input tokens a pair costs (after truncation to the judge's budget), for quotas and cost estimates. */
  countTokens(pair: JudgePair): number;
  /** Null for local judges (no cost). */
  readonly pricing: JudgePricing | null;
  /**
   * One verdict per pair, in order. A pair the judge could not grade (an
   * invalid answer after its retry) is `ok: false`; a failure of the whole
   * call (network, 5xx after retries, 429 after retries, abort) throws.
   */
  judge(pairs: readonly JudgePair[], options?: JudgeOptions): Promise<JudgeVerdict[]>;
  /** Release resources (sessions, sockets). Safe to call twice. */
  close?(): Promise<void>;
}
