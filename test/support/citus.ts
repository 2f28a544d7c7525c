import type pg from 'pg';
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
  const at = (host: string, port: number) => {
    const u = new URL(adminUrl);
    u.hostname = host;
    u.port = String(port);
    u.pathname = `/${name}`;
    return u.toString();
  };
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
 * Drop it on every node (the coordinator propagates the drop). A worker may
 * still hold a connection the coordinator opened for a session that just
 * ended: those are ended first, and the drop is tried again a few times.
 * A propagated drop is not atomic across nodes: one that failed on a worker
 * may have dropped the database on another already, and the next try then
 * fails there with "does not exist" (3D000). The rest is dropped node by
 * node then, each with IF EXISTS.
 */
export async function dropCitusDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    await c.query('set citus.enable_create_database_propagation = on');
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`drop database if exists ${name} with (force)`);
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === '3D000') return dropNodeByNode(c, name);
        if (code !== '55006' || attempt >= 10) throw e;
        await c.query(
          `select run_command_on_workers(format('select pg_terminate_backend(pid) from pg_stat_activity where datname = %L', $1::text))`,
          [name],
        );
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  });
}

async function dropNodeByNode(c: pg.ClientBase, name: string): Promise<void> {
  const { rows } = await c.query<{ nodename: string; nodeport: number; success: boolean; result: string }>(
    `select * from run_command_on_workers(format('drop database if exists %I with (force)', $1::text))`,
    [name],
  );
  const failed = rows.filter((r) => !r.success);
  if (failed.length > 0)
    throw new Error(
      `could not drop ${name} on ${failed.map((r) => `${r.nodename}:${r.nodeport} (${r.result})`).join(', ')}`,
    );
  await c.query('set citus.enable_create_database_propagation = off');
  await c.query(`drop database if exists ${name} with (force)`);
}
