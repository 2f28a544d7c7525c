import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/** Ids sent to the database per statement. */
const SLICE = 10_000;

/**
 * The document ids of one ingest's input, with the location of each record,
 * kept in a temporary table of the ingest's own connection instead of in
 * memory: an ingest of any size holds a slice of ids at a time. The writing
 * pass asks it which record of an id comes first, and prune compares the
 * live documents against it in SQL.
 *
 * `conn` must be bound to one connection (Kysely `connection()`): a
 * temporary table lives in its session.
 */
export class SeenIds {
  private ids: string[] = [];
  private locs: number[] = [];
  private oks: boolean[] = [];

  private constructor(private readonly conn: Kysely<DB>) {}

  static async create(conn: Kysely<DB>): Promise<SeenIds> {
    await sql`drop table if exists pg_temp.embctl_ingest_seen`.execute(conn);
    await sql`create temporary table embctl_ingest_seen (document_id text not null, loc bigint not null, ok boolean not null)`.execute(
      conn,
    );
    return new SeenIds(conn);
  }

  /** Record one input record that has an id (valid or not: both protect the document from prune). */
  async add(id: string, loc: number, ok: boolean): Promise<void> {
    this.ids.push(id);
    this.locs.push(loc);
    this.oks.push(ok);
    if (this.ids.length >= SLICE) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.ids.length === 0) return;
    const [ids, locs, oks] = [this.ids, this.locs, this.oks];
    this.ids = [];
    this.locs = [];
    this.oks = [];
    await sql`insert into embctl_ingest_seen (document_id, loc, ok)
      select * from unnest(${ids}::text[], ${locs}::bigint[], ${oks}::boolean[])`.execute(this.conn);
  }

  /** After the last add: index the ids and return each valid record that repeats an earlier record's id, in input order. */
  async finish(limit: number): Promise<{ repeats: Repeat[]; count: number }> {
    await this.flush();
    await sql`create index on embctl_ingest_seen (document_id, loc)`.execute(this.conn);
    await sql`analyze embctl_ingest_seen`.execute(this.conn);
    const repeats = sql`(select document_id, loc, ok, min(loc) over (partition by document_id) as first
      from embctl_ingest_seen) s where s.ok and s.loc <> s.first`;
    const { rows } = await sql<{ id: string; loc: string; first: string }>`
      select document_id as id, loc, first from ${repeats} order by loc limit ${limit}`.execute(this.conn);
    const total = await sql<{ n: string }>`select count(*) as n from ${repeats}`.execute(this.conn);
    return {
      repeats: rows.map((r) => ({ id: r.id, loc: Number(r.loc), first: Number(r.first) })),
      count: Number(total.rows[0]?.n ?? 0),
    };
  }

  /** The location of the first record of each of these ids (absent: the id was not in the input when it was validated). */
  async firstOf(ids: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await sql<{ id: string; first: string }>`
      select document_id as id, min(loc) as first from embctl_ingest_seen
      where document_id = any(${ids}::text[]) group by document_id`.execute(this.conn);
    return new Map(rows.map((r) => [r.id, Number(r.first)]));
  }

  async drop(): Promise<void> {
    await sql`drop table if exists pg_temp.embctl_ingest_seen`.execute(this.conn);
  }
}

export interface Repeat {
  id: string;
  /** Where the repeating record is. */
  loc: number;
  /** Where the id's first record is. */
  first: number;
}
