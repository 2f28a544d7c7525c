#!/usr/bin/env bash
# citus-test-cluster.sh: a throwaway Citus cluster (a coordinator and two
# workers, PostgreSQL 15 + Citus + pgvector, all on this machine) for tests
# and benchmarks, on the model of scripts/pg-test-server.sh.
#
#   scripts/citus-test-cluster.sh start          start the cluster (idempotent); prints
#                                                ONLY the coordinator's URL on stdout
#   scripts/citus-test-cluster.sh url            print the coordinator's URL (exit 1 if none)
#   scripts/citus-test-cluster.sh createdb NAME  make a fresh distributed database NAME
#                                                (on every node, with citus + vector, the
#                                                workers registered); prints its URL
#   scripts/citus-test-cluster.sh dropdb NAME    drop it on every node (no-op if absent)
#   scripts/citus-test-cluster.sh stop           stop all three servers and delete their data
#   scripts/citus-test-cluster.sh self-test      start (if needed), check the cluster end to
#                                                end in a scratch database, drop it
#
# Environment:
#   CITUS_TEST_STATE        state file (default /tmp/embctl-citus-test/state)
#   CITUS_TEST_SHARD_COUNT  citus.shard_count on the coordinator (default 4: two
#                           shards per worker keeps DDL of a test database quick)
#   CITUS_INSTALL_SCRIPT    how to install Citus when it is missing (default
#                           ../shared/scripts/citus-install.sh next to the repo)
#
# Fresh databases. Every node's template1 holds pgvector, and the
# coordinator propagates CREATE/DROP DATABASE to the workers
# (citus.enable_create_database_propagation, on in postgresql.conf); but
# the citus extension cannot live in template1 (see add_extensions), and a
# Citus database knows its nodes only from its own pg_dist_node. So a fresh
# distributed database takes three steps; `createdb` does them, and code
# that holds a connection to the coordinator's `postgres` database (where the
# nodes are registered) can do the same in SQL:
#   1. on the coordinator:  CREATE DATABASE name;  -- also made on both workers
#   2. in `name` on EVERY node (coordinator, then each worker, connecting to
#      the ports of `SELECT nodeport FROM pg_dist_node WHERE groupid <> 0` in
#      the coordinator's `postgres` database):  CREATE EXTENSION citus;
#      (from the coordinator, citus_add_node fails with "function
#      assign_distributed_transaction_id ... does not exist" otherwise)
#   3. in `name` on the coordinator:
#        SELECT citus_set_coordinator_host('127.0.0.1', <coordinator port>);
#        SELECT citus_add_node('127.0.0.1', <worker port>);  -- for each worker
#   Drop: DROP DATABASE name WITH (FORCE);  -- on the coordinator: every node
#
# Progress and errors go to stderr; stdout carries only URLs, so
#   DATABASE_URL="$(scripts/citus-test-cluster.sh start)"
# works. Never touches the single-node server of scripts/pg-test-server.sh.

set -euo pipefail

readonly PG_MAJOR=15
readonly PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
readonly PG_CONFIG="${PG_BIN}/pg_config"
readonly STATE_FILE="${CITUS_TEST_STATE:-/tmp/embctl-citus-test/state}"
readonly SHARD_COUNT="${CITUS_TEST_SHARD_COUNT:-4}"
readonly MARKER=".embctl-citus-test"
readonly PROG="${0##*/}"
readonly HERE="$(cd "$(dirname "$0")" && pwd)"
readonly INSTALL_SCRIPT="${CITUS_INSTALL_SCRIPT:-$HERE/../../shared/scripts/citus-install.sh}"
readonly NODES=(coordinator worker1 worker2)

# log, die, as_pg, remove_cluster_dir, with_lock, port_free
# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-server-lib.sh"

usage() {
  cat >&2 <<EOF
usage: $PROG <command>

commands:
  start          start a coordinator and two workers (idempotent); prints the coordinator's URL
  url            print the coordinator's URL (exit 1 if none)
  createdb NAME  make a fresh distributed database NAME on every node; prints its URL
  dropdb NAME    drop database NAME on every node (no-op if absent)
  stop           stop the cluster and delete its data (no-op if none)
  self-test      start if needed, check the cluster end to end, drop the scratch database

environment:
  CITUS_TEST_STATE        state file (default /tmp/embctl-citus-test/state)
  CITUS_TEST_SHARD_COUNT  citus.shard_count (default 4)
  CITUS_INSTALL_SCRIPT    Citus installer used when citus.so is missing
EOF
}

# ---------------------------------------------------------------- install ---

pkglibdir() { "$PG_CONFIG" --pkglibdir; }
sharedir() { "$PG_CONFIG" --sharedir; }

have_pg() { [[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_CONFIG ]]; }
have_vector() { [[ -f "$(pkglibdir)/vector.so" && -f "$(sharedir)/extension/vector.control" ]]; }
have_citus() { [[ -f "$(pkglibdir)/citus.so" && -f "$(sharedir)/extension/citus.control" ]]; }

how_to_get_citus() {
  cat >&2 <<EOF
$PROG: Citus is not installed for PostgreSQL $PG_MAJOR ($( have_pg && pkglibdir || echo "$PG_BIN/..")/citus.so is missing).
Get it in one of these ways, then run '$PROG start' again:
  - Citus packages (https://docs.citusdata.com/en/stable/installation/):
      curl https://install.citusdata.com/community/deb.sh | sudo bash
      sudo apt-get install postgresql-${PG_MAJOR}-citus-13.0
    (pgvector: scripts/pg-test-server.sh install, or the postgresql-${PG_MAJOR}-pgvector package)
  - or set CITUS_INSTALL_SCRIPT to a script that builds and installs Citus;
  - or run a cluster in Docker from the citusdata/citus image with pgvector
    added (a Dockerfile 'FROM citusdata/citus:13.0' + apt-get install
    postgresql-<major>-pgvector), one coordinator and two workers, and point
    DATABASE_URL at the coordinator; this script does not manage that.
EOF
}

ensure_installed() {
  if ! have_pg || ! have_vector; then
    log "PostgreSQL $PG_MAJOR or pgvector missing: installing them with pg-test-server.sh install"
    bash "$HERE/pg-test-server.sh" install >&2 || die "installing PostgreSQL $PG_MAJOR + pgvector failed"
  fi
  have_citus && return 0
  if [[ -f $INSTALL_SCRIPT ]]; then
    log "Citus missing: running $INSTALL_SCRIPT (5-8 minutes the first time)"
    bash "$INSTALL_SCRIPT" >&2 || die "$INSTALL_SCRIPT failed"
    have_citus || die "citus.so still missing after $INSTALL_SCRIPT"
    return 0
  fi
  how_to_get_citus
  exit 1
}

# ------------------------------------------------------------------ state ---

# State: dir=, url=, and for each node <node>_port= and <node>_pid=.
declare -A ST=()

read_state() {
  ST=()
  [[ -f $STATE_FILE ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    [[ -n $k ]] && ST[$k]=$v
  done <"$STATE_FILE"
  [[ -n ${ST[dir]:-} && -n ${ST[coordinator_port]:-} && -n ${ST[worker1_port]:-} && -n ${ST[worker2_port]:-} ]]
}

write_state() {
  local tmp="$STATE_FILE.tmp.$$" k
  : >"$tmp"
  for k in dir url coordinator_port coordinator_pid worker1_port worker1_pid worker2_port worker2_pid; do
    printf '%s=%s\n' "$k" "${ST[$k]:-}" >>"$tmp"
  done
  mv -f "$tmp" "$STATE_FILE"
}

url_for() { printf 'postgresql://postgres@127.0.0.1:%s/%s' "$1" "${2:-postgres}"; }

node_running() {
  local node=$1 data pid port
  data="${ST[dir]}/$node"
  pid="${ST[${node}_pid]:-}"
  port="${ST[${node}_port]:-}"
  [[ -n $pid && -n $port ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -f $data/postmaster.pid && "$(head -n1 "$data/postmaster.pid")" == "$pid" ]] || return 1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5 >/dev/null 2>&1
}

# Are all three servers of the state file up, with both workers registered?
state_running() {
  read_state || return 1
  local node
  for node in "${NODES[@]}"; do node_running "$node" || return 1; done
  [[ "$(psql_at "${ST[coordinator_port]}" postgres \
    "select count(*) from pg_dist_node where isactive and noderole = 'primary' and groupid <> 0" 2>/dev/null)" == 2 ]]
}

# psql as the superuser on 127.0.0.1:<port>, database <db>; stops on the first error.
psql_run() {
  local port=$1 db=$2
  shift 2
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}
psql_at() { psql_run "$1" "$2" -At -c "$3"; }

stop_all_recorded() {
  local node data pid
  for node in "${NODES[@]}"; do
    data="${ST[dir]:-}/$node"
    pid="${ST[${node}_pid]:-}"
    if [[ -n ${ST[dir]:-} && -f $data/postmaster.pid ]]; then
      if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 -s stop >&2 2>/dev/null; then
        [[ -n $pid ]] && kill -QUIT "$pid" 2>/dev/null || true
      fi
    fi
  done
}

# ------------------------------------------------------------------ start ---

pick_port() {
  local p i
  for i in $(seq 1 100); do
    # below the Linux ephemeral range, so outgoing connections don't collide
    p=$(( 20000 + RANDOM % 12000 ))
    port_free "$p" || continue
    # not one this cluster already took
    [[ " ${ST[coordinator_port]:-} ${ST[worker1_port]:-} ${ST[worker2_port]:-} " == *" $p "* ]] && continue
    echo "$p"
    return 0
  done
  die "no free TCP port found on 127.0.0.1"
}

# initdb one node in $dir/<node> (the server is not started).
init_node() {
  local dir=$1 node=$2
  log "initdb $dir/$node"
  as_pg "$PG_BIN/initdb" -D "$dir/$node" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/$node.initdb.log" 2>&1 || { cat "$dir/$node.initdb.log" >&2; return 1; }
  cp "$dir/$node/postgresql.conf" "$dir/$node.conf.orig"
}

# Write the node's settings for a port and start it; retries other ports when taken.
start_node() {
  local dir=$1 node=$2 port attempt data="$dir/$1"
  data="$dir/$node"
  for attempt in 1 2 3 4 5; do
    port="$(pick_port)"
    cp "$dir/$node.conf.orig" "$data/postgresql.conf"
    cat >>"$data/postgresql.conf" <<EOF

# embctl throwaway Citus test cluster ($node): speed over durability,
# sized for a 2-core machine that runs three servers at once.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
fsync = off
synchronous_commit = off
full_page_writes = off
# Test processes hold pools of 10; the coordinator opens its own
# connections to every worker (and workers to each other) per session.
max_connections = 300
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 256MB
max_worker_processes = 16
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 1
# Citus: at most 4 connections per worker per distributed query (the
# default 16 only thrashes 2 cores), 100 per worker in all from one node.
citus.max_adaptive_executor_pool_size = 4
citus.max_shared_pool_size = 100
citus.shard_count = $SHARD_COUNT
citus.log_remote_commands = off
# a test database is created and dropped on every node from the coordinator
citus.enable_create_database_propagation = on
EOF
    log "starting $node on 127.0.0.1:$port"
    if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$dir/$node.log" -w -t 60 -s start >&2 9>&-; then
      ST[${node}_port]=$port
      ST[${node}_pid]="$(head -n1 "$data/postmaster.pid")"
      return 0
    fi
    if [[ $attempt -eq 5 ]] || ! grep -q 'could not bind\|could not create any TCP' "$dir/$node.log"; then
      tail -n 20 "$dir/$node.log" >&2 || true
      return 1
    fi
    log "port $port was taken; retrying on another port"
  done
  return 1
}

# vector in template1 (so every later database has it), citus + vector in
# postgres. Never citus in template1: the first session that loads citus in
# a database starts a Citus maintenance daemon that stays connected to it,
# and CREATE DATABASE then fails ("source database "template1" is being
# accessed by other users").
add_extensions() {
  local port=$1
  psql_run "$port" template1 -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2 || return 1
  psql_run "$port" postgres -c 'CREATE EXTENSION IF NOT EXISTS citus' -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2
}

# Register the coordinator and both workers in database <db> of the coordinator.
register_nodes() {
  local db=$1
  psql_run "${ST[coordinator_port]}" "$db" \
    -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ST[coordinator_port]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${ST[worker1_port]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${ST[worker2_port]})" >/dev/null
}

cmd_start() {
  with_lock
  ensure_installed

  if state_running; then
    printf '%s\n' "${ST[url]}"
    return 0
  fi
  if read_state || [[ -f $STATE_FILE ]]; then
    log "removing stale Citus test cluster state (${ST[dir]:-no folder})"
    stop_all_recorded
    remove_cluster_dir "${ST[dir]:-}"
  fi
  rm -f "$STATE_FILE"
  ST=()

  local dir node
  dir="$(mktemp -d "${TMPDIR:-/tmp}/embctl-citus.XXXXXX")"
  touch "$dir/$MARKER"
  [[ $EUID -eq 0 ]] && chown -R postgres:postgres "$dir"
  chmod 755 "$dir"
  ST[dir]=$dir

  fail() { stop_all_recorded; remove_cluster_dir "$dir"; rm -f "$STATE_FILE"; die "$1"; }

  for node in "${NODES[@]}"; do
    init_node "$dir" "$node" || fail "initdb of $node failed"
  done
  for node in "${NODES[@]}"; do
    start_node "$dir" "$node" || fail "starting $node failed (log above)"
  done
  ST[url]="$(url_for "${ST[coordinator_port]}")"
  write_state

  for node in "${NODES[@]}"; do
    add_extensions "${ST[${node}_port]}" || fail "CREATE EXTENSION citus/vector failed on $node"
  done
  register_nodes postgres || fail "registering the nodes failed"

  log "ready: coordinator 127.0.0.1:${ST[coordinator_port]}, workers ${ST[worker1_port]} and ${ST[worker2_port]}; citus $(
    psql_at "${ST[coordinator_port]}" postgres "select extversion from pg_extension where extname = 'citus'"), pgvector $(
    psql_at "${ST[coordinator_port]}" postgres "select extversion from pg_extension where extname = 'vector'")"
  printf '%s\n' "${ST[url]}"
}

# ------------------------------------------------------- createdb / dropdb ---

check_db_name() {
  [[ $1 =~ ^[a-z][a-z0-9_]{0,62}$ ]] || die "bad database name '$1' (lower case letters, digits and _; a letter first)"
  case $1 in postgres|template0|template1) die "refusing to use database '$1'" ;; esac
}

cmd_createdb() {
  local name=$1
  check_db_name "$name"
  state_running || die "no Citus test cluster running (start one with: $PROG start)"
  local cport=${ST[coordinator_port]}
  [[ -z "$(psql_at "$cport" postgres "select 1 from pg_database where datname = '$name'")" ]] \
    || die "database $name exists already"
  # Propagated to both workers (the setting is on in postgresql.conf; said again
  # here so that the recipe reads whole). Each copy of template1 has pgvector.
  psql_run "$cport" postgres -c 'SET citus.enable_create_database_propagation = on' \
    -c "CREATE DATABASE $name" >&2 || die "CREATE DATABASE $name failed"
  local node
  for node in "${NODES[@]}"; do
    if ! psql_run "${ST[${node}_port]}" "$name" -c 'CREATE EXTENSION citus' >&2; then
      cmd_dropdb "$name" || true
      die "CREATE EXTENSION citus in $name on $node failed"
    fi
  done
  if ! register_nodes "$name"; then
    cmd_dropdb "$name" || true
    die "registering the nodes in $name failed"
  fi
  printf '%s\n' "$(url_for "$cport" "$name")"
}

cmd_dropdb() {
  local name=$1
  check_db_name "$name"
  read_state || die "no Citus test cluster running"
  psql_run "${ST[coordinator_port]}" postgres -c 'SET citus.enable_create_database_propagation = on' \
    -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >&2
}

# ------------------------------------------------------------- stop / url ---

cmd_stop() {
  with_lock
  if ! read_state; then
    if [[ -n ${ST[dir]:-} ]]; then
      stop_all_recorded
      remove_cluster_dir "${ST[dir]}"
    fi
    rm -f "$STATE_FILE"
    log "no Citus test cluster running"
    return 0
  fi
  log "stopping the Citus test cluster (ports ${ST[coordinator_port]}, ${ST[worker1_port]}, ${ST[worker2_port]})"
  stop_all_recorded
  remove_cluster_dir "${ST[dir]}"
  rm -f "$STATE_FILE"
}

cmd_url() {
  if state_running; then
    printf '%s\n' "${ST[url]}"
  else
    die "no Citus test cluster running (start one with: $PROG start)"
  fi
}

# -------------------------------------------------------------- self-test ---

# Start (if needed), make a scratch database, and check what embctl relies
# on: both workers active, a distributed table with shards on both workers,
# pgvector on the shards, a table created after distribution; drop it again.
cmd_self_test() {
  local url name db port n
  url="$(cmd_start)"
  [[ "$(cmd_url)" == "$url" ]] || die "self-test: url differs from start's output"
  [[ "$(cmd_start)" == "$url" ]] || die "self-test: a second start gave another URL (not idempotent)"
  name="citus_selftest_$$"
  db="$(cmd_createdb "$name")"
  trap 'cmd_dropdb "$name" >/dev/null 2>&1 || true' EXIT
  read_state || die "self-test: no state after start"
  port=${ST[coordinator_port]}
  n="$(psql_at "$port" "$name" "select count(*) from citus_get_active_worker_nodes()")"
  [[ $n == 2 ]] || die "self-test: $n active workers in $name, expected 2"
  psql_run "$port" "$name" >/dev/null <<'SQL' || die "self-test: distributing a vector table failed"
CREATE TABLE st (id bigint PRIMARY KEY, v vector(3));
SELECT create_distributed_table('st', 'id');
INSERT INTO st SELECT g, ARRAY[g, 1, 1]::vector FROM generate_series(1, 100) g;
SQL
  n="$(psql_at "$port" "$name" "select count(distinct nodeport) from citus_shards where table_name = 'st'::regclass and nodeport <> $port")"
  [[ $n == 2 ]] || die "self-test: shards of st on $n workers, expected 2"
  n="$(psql_at "$port" "$name" "select id from st order by v <-> '[7,1,1]' limit 1")"
  [[ $n == 7 ]] || die "self-test: nearest neighbour across shards is $n, expected 7"
  cmd_dropdb "$name"
  trap - EXIT
  [[ -z "$(psql_at "${ST[worker1_port]}" postgres "select 1 from pg_database where datname = '$name'")" ]] \
    || die "self-test: DROP DATABASE did not reach worker1"
  log "self-test passed ($db)"
}

# ------------------------------------------------------------------- main ---

main() {
  [[ $# -ge 1 ]] || { usage; exit 2; }
  local cmd=$1
  shift
  case $cmd in
    start|stop|url|self-test|--self-test)
      [[ $# -eq 0 ]] || { usage; exit 2; } ;;
    createdb|dropdb)
      [[ $# -eq 1 ]] || { usage; exit 2; } ;;
  esac
  case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    createdb) cmd_createdb "$1" ;;
    dropdb) cmd_dropdb "$1" ;;
    self-test|--self-test) cmd_self_test ;;
    -h|--help|help) usage ;;
    *) printf '%s: error: unknown command: %s\n' "$PROG" "$cmd" >&2; usage; exit 2 ;;
  esac
}

main "$@"
