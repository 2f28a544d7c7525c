import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/** Store a version's score calibration (a JSON-serialisable value). */
export async function setCalibration(db: Kysely<DB>, id: number, calibration: unknown): Promise<void> {
  await db
    .updateTable('embedding_versions')
    .set({ calibration: JSON.stringify(calibration), updated_at: sql`now()` as never })
    .where('id', '=', id)
    .execute();
}
