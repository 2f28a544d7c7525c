import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/** A node of a Citus cluster, as the coordinator knows it. */
export interface ClusterNode {
  host: string;
  port: number;
  role: 'coordinator' | 'worker';
  active: boolean;
}

/** Where one version's vectors live on the cluster. */
export interface VersionShards {
  shards: number;
  nodes: number;
  bytes: number;
}

export interface ClusterStatus {
  nodes: ClusterNode[];
  /** By partition table name (chunk_embeddings_v<id>). */
  shardsByTable: Map<string, VersionShards>;
}

/** Nodes and the shards of each version's partition (Citus coordinator only). */
export async function clusterStatus(db: Kysely<DB>): Promise<ClusterStatus> {
  const nodes = await sql<{ host: string; port: number; groupid: number; active: boolean }>`
    select nodename as host, nodeport as port, groupid, isactive as active
    from pg_dist_node where noderole = 'primary' order by groupid, nodeid`.execute(db);
  const shards = await sql<{ t: string; shards: number; nodes: number; bytes: string }>`
    select table_name::text as t, count(*)::int as shards, count(distinct (nodename, nodeport))::int as nodes,
           coalesce(sum(shard_size), 0)::text as bytes
    from citus_shards where table_name::text like 'chunk\\_embeddings\\_v%' group by 1`.execute(db);
  return {
    nodes: nodes.rows.map((n) => ({
      host: n.host,
      port: Number(n.port),
      role: Number(n.groupid) === 0 ? 'coordinator' : 'worker',
      active: n.active,
    })),
    shardsByTable: new Map(
      shards.rows.map((r) => [r.t, { shards: Number(r.shards), nodes: Number(r.nodes), bytes: Number(r.bytes) }]),
    ),
  };
}
