import { withClient } from './pg-client.js';

/**
 * A fresh database on a Citus cluster (scripts/citus-test-cluster.sh), made
 * the way that script's `createdb` does: CREATE DATABASE on the coordinator
 * (propagated to the workers), `CREATE EXTENSION citus` in it on every node,
 * then the coordinator and the workers registered in it (a Citus database
 * knows its nodes only from its own pg_dist_node). `adminUrl` is the
 * coordinator's `postgres` database, where the cluster's nodes are registered.
 */
export async function createCitusDatabase(adminUrl: string, name: string): Promise<void> {
  const workers = await withClient(adminUrl, async (c) => {
    await c.query('set citus.enable_create_database_propagation = on');
    await c.query(`create database ${name}`);
    const { rows } = await c.query<{ nodename: string; nodeport: number }>(
      `select nodename, nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' order by nodeid`,
    );
    return rows;
  });
  const coordinator = new URL(adminUrl);
  const at = (host: string, port: number) => nodeUrl(adminUrl, host, port, name);
  const coordinatorPort = Number(coordinator.port || 5432);
  for (const node of [{ nodename: coordinator.hostname, nodeport: coordinatorPort }, ...workers]) {
    await withClient(at(node.nodename, node.nodeport), (c) => c.query('create extension if not exists citus'));
  }
  await withClient(at(coordinator.hostname, coordinatorPort), async (c) => {
    await c.query('select citus_set_coordinator_host($1, $2)', [coordinator.hostname, coordinatorPort]);
    for (const w of workers) await c.query('select citus_add_node($1, $2)', [w.nodename, w.nodeport]);
  });
}

/**
 * Drop it on every node, one node at a time: the workers, then the
 * coordinator, each through its own connection with propagation off. A
 * propagated drop is not atomic across nodes, and Citus serialises it by
 * looking the database up on the first worker (with missing_ok off), so once
 * any one node had dropped it, every propagated retry, even IF EXISTS, failed
 * there with "does not exist" (3D000): seen in CI. Each node's own drop
 * removes that node's pg_dist_object entry. WITH (FORCE) ends the sessions the
 * coordinator still holds on a worker; a backend slow to exit (55006) is
 * waited for a few times.
 */
export async function dropCitusDatabase(adminUrl: string, name: string): Promise<void> {
  const workers = await withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ nodename: string; nodeport: number }>(
      `select nodename, nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' order by nodeid`,
    );
    return rows;
  });
  for (const w of workers) await dropOnNode(nodeUrl(adminUrl, w.nodename, w.nodeport), name);
  await dropOnNode(adminUrl, name);
}

/** `adminUrl` with its host and port swapped for another node's, and its database for `database` if given. */
function nodeUrl(adminUrl: string, host: string, port: number, database?: string): string {
  const u = new URL(adminUrl);
  u.hostname = host;
  u.port = String(port);
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

async function dropOnNode(url: string, name: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('set citus.enable_create_database_propagation = off');
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`drop database if exists ${name} with (force)`);
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== '55006' || attempt >= 10) {
          const where = new URL(url);
          throw new Error(`could not drop ${name} on ${where.hostname}:${where.port}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  });
}
