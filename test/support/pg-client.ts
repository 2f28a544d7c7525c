import pg from 'pg';

/** One plain `pg` client to `url` for the length of `fn` (admin statements, a node of a cluster). */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
