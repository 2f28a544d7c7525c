/** The `judge_calibrations` table: a judge's measured agreement with people. */
import type { Kysely, Selectable } from 'kysely';
import type { DB, JudgeCalibrationsTable } from '../db/index.js';

export type CalibrationRow = Selectable<JudgeCalibrationsTable>;

export interface NewCalibration {
  judge: string;
  judgeBase: string;
  judgeSpec: string;
  judgedSetName: string;
  judgedSetSha256: string;
  pairs: number;
  kappa: number;
  accuracy: number;
  kendallTau: number | null;
  thresholds: number[] | null;
  details: Record<string, unknown>;
  actor: string;
}

export async function recordCalibration(db: Kysely<DB>, c: NewCalibration): Promise<CalibrationRow> {
  return db
    .insertInto('judge_calibrations')
    .values({
      judge: c.judge,
      judge_base: c.judgeBase,
      judge_spec: c.judgeSpec,
      judged_set_name: c.judgedSetName,
      judged_set_sha256: c.judgedSetSha256,
      pairs: c.pairs,
      kappa: c.kappa,
      accuracy: c.accuracy,
      kendall_tau: c.kendallTau,
      thresholds: c.thresholds ? JSON.stringify(c.thresholds) : null,
      details: JSON.stringify(c.details),
      actor: c.actor,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The latest calibration of a judge identity (thresholds included), or undefined. */
export async function latestCalibration(db: Kysely<DB>, judge: string): Promise<CalibrationRow | undefined> {
  return db
    .selectFrom('judge_calibrations')
    .selectAll()
    .where('judge', '=', judge)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The latest calibration of a judge model whatever its thresholds (a cross-encoder's fitted thresholds). */
export async function latestCalibrationOfBase(db: Kysely<DB>, base: string): Promise<CalibrationRow | undefined> {
  return db
    .selectFrom('judge_calibrations')
    .selectAll()
    .where('judge_base', '=', base)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}
