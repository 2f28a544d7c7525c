#!/usr/bin/env bash
# pg-test-server.sh: a throwaway PostgreSQL 15 + pgvector (>= 0.8) server for
# tests and CI, on Debian bookworm without Docker.
#
#   scripts/pg-test-server.sh install   install PostgreSQL 15 + pgvector if missing
#   scripts/pg-test-server.sh start     install, then start a throwaway server;
#                                       prints ONLY its URL on stdout
#   scripts/pg-test-server.sh url       print the running server's URL (exit 1 if none)
#   scripts/pg-test-server.sh stop      stop it and delete its data (no-op if none)
#
# Environment:
#   PG_TEST_STATE   state file   (default /tmp/embctl-pg-test/state)
#   PG_TEST_PORT    fixed port   (default: a free random port on 127.0.0.1)
#
# Progress and errors go to stderr; stdout carries only the URL, so
#   DATABASE_URL="$(scripts/pg-test-server.sh start)"
# works. Contributors with Docker can use docker-compose.yml instead.

set -euo pipefail

readonly PG_MAJOR=15
readonly PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
readonly PG_CONFIG="${PG_BIN}/pg_config"
readonly PGVECTOR_MIN=0.8
readonly STATE_FILE="${PG_TEST_STATE:-/tmp/embctl-pg-test/state}"
readonly MARKER=".embctl-pg-test"
readonly PROG="${0##*/}"

# log, die, as_pg, remove_cluster_dir, with_lock, port_free
# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-server-lib.sh"

usage() {
  cat >&2 <<EOF
usage: $PROG <command>

commands:
  install   install postgresql-${PG_MAJOR}, postgresql-server-dev-${PG_MAJOR} (apt) and
            pgvector >= ${PGVECTOR_MIN} (built from Debian's trixie source) if missing
  start     install, then start a throwaway server (idempotent); prints its URL
  url       print the URL of the running server (exit 1 if none)
  stop      stop the server and delete its data directory (no-op if none)

environment:
  PG_TEST_STATE   state file (default /tmp/embctl-pg-test/state)
  PG_TEST_PORT    use this port instead of a free random one
EOF
}

# Run a command as root (directly, or through sudo when we are not root).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------- install ---

pkg_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root apt-get -o DPkg::Lock::Timeout=300 -q update >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  # 9>&- : a service started by a postinst must not inherit the lock fd.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q -y \
    --no-install-recommends install "${missing[@]}" >&2 9>&- || die "apt-get install ${missing[*]} failed"
}

# Installed pgvector version for PostgreSQL 15, or empty.
pgvector_version() {
  local sharedir pkglibdir control
  [[ -x $PG_CONFIG ]] || return 0
  sharedir="$("$PG_CONFIG" --sharedir)" || return 0
  pkglibdir="$("$PG_CONFIG" --pkglibdir)" || return 0
  control="$sharedir/extension/vector.control"
  [[ -f $control && -f $pkglibdir/vector.so ]] || return 0
  sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$control" | head -n1
}

version_ge() { dpkg --compare-versions "$1" ge "$2"; }

# The Debian mirror this machine already uses (from its apt sources).
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    if [[ $f == *.sources ]]; then
      uri="$(sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n')"
    else
      uri="$(sed -n 's/^[[:space:]]*deb\(-src\)\?[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\3/p' "$f")"
    fi
    uri="$(printf '%s\n' "$uri" | grep -E '^https?://[^[:space:]]+/debian/?$' | head -n1 || true)"
    if [[ -n $uri ]]; then
      printf '%s\n' "${uri%/}"
      return 0
    fi
  done
  printf '%s\n' "http://deb.debian.org/debian"
}

debian_keyring() {
  local k
  for k in /usr/share/keyrings/debian-archive-keyring.gpg \
           /usr/share/keyrings/debian-archive-trixie-stable.gpg \
           /etc/apt/trusted.gpg.d/debian-archive-trixie-stable.gpg \
           /usr/share/keyrings/debian-archive-trixie-automatic.gpg \
           /etc/apt/trusted.gpg.d/debian-archive-trixie-automatic.gpg; do
    [[ -f $k ]] && { printf '%s\n' "$k"; return 0; }
  done
  die "no Debian archive keyring found (install debian-archive-keyring)"
}

build_pgvector() {
  local work mirror keyring dsc srcdir
  apt_install dpkg-dev build-essential

  work="$(mktemp -d "${TMPDIR:-/tmp}/embctl-pgvector.XXXXXX")"
  # shellcheck disable=SC2064
  trap "as_root rm -rf '$work'" EXIT
  chmod 755 "$work"
  mkdir -p "$work/lists/partial" "$work/src"
  # apt downloads as the unprivileged _apt user when it can.
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then
    chown _apt "$work/lists/partial" "$work/src"
  fi

  mirror="$(debian_mirror)"
  keyring="$(debian_keyring)"
  cat >"$work/trixie-src.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: $keyring
EOF
  local apt_opts=(
    -o "Dir::Etc::sourcelist=$work/trixie-src.sources"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=0"
  )

  log "fetching pgvector source from $mirror trixie"
  as_root apt-get "${apt_opts[@]}" -q update >&2 || die "apt-get update (trixie deb-src) failed"
  (cd "$work/src" && as_root apt-get "${apt_opts[@]}" -q source --download-only pgvector >&2) \
    || die "apt-get source pgvector failed"

  dsc="$(find "$work/src" -maxdepth 1 -name 'pgvector_*.dsc' | head -n1)"
  [[ -n $dsc ]] || die "no pgvector .dsc downloaded"
  log "unpacking $(basename "$dsc")"
  (cd "$work/src" && as_root dpkg-source -x "$(basename "$dsc")" pgvector >&2) \
    || die "dpkg-source -x $(basename "$dsc") failed"
  srcdir="$work/src/pgvector"

  log "building pgvector"
  # OPTFLAGS= : no -march=native, like Debian's own build, so the result is
  # portable if this machine's image is reused on other CPUs.
  as_root make -C "$srcdir" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS= >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; die "pgvector build failed"; }
  as_root make -C "$srcdir" PG_CONFIG="$PG_CONFIG" OPTFLAGS= install >>"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; die "pgvector install failed"; }

  as_root rm -rf "$work"
  trap - EXIT
}

cmd_install() {
  with_lock
  apt_install "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}"
  [[ -x "$PG_BIN/postgres" ]] || die "$PG_BIN/postgres missing after installing postgresql-${PG_MAJOR}"
  [[ -x $PG_CONFIG ]] || die "$PG_CONFIG missing after installing postgresql-${PG_MAJOR}"

  local v
  v="$(pgvector_version)"
  if [[ -n $v ]] && version_ge "$v" "$PGVECTOR_MIN"; then
    return 0
  fi
  if [[ -n $v ]]; then
    log "pgvector $v is older than $PGVECTOR_MIN; rebuilding"
  else
    log "pgvector not installed for PostgreSQL $PG_MAJOR; building it"
  fi
  build_pgvector
  v="$(pgvector_version)"
  [[ -n $v ]] && version_ge "$v" "$PGVECTOR_MIN" \
    || die "pgvector still not installed (found '${v:-none}') after the build"
  log "pgvector $v installed"
}

# ------------------------------------------------------------------ state ---

S_DIR="" S_DATA="" S_PORT="" S_PID="" S_URL=""

read_state() {
  S_DIR="" S_DATA="" S_PORT="" S_PID="" S_URL=""
  [[ -f $STATE_FILE ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    case $k in
      dir) S_DIR=$v ;;
      data) S_DATA=$v ;;
      port) S_PORT=$v ;;
      pid) S_PID=$v ;;
      url) S_URL=$v ;;
    esac
  done <"$STATE_FILE"
  [[ -n $S_DIR && -n $S_DATA && -n $S_PORT ]]
}

write_state() {
  local tmp="$STATE_FILE.tmp.$$"
  printf 'dir=%s\ndata=%s\nport=%s\npid=%s\nurl=%s\n' \
    "$S_DIR" "$S_DATA" "$S_PORT" "$S_PID" "$S_URL" >"$tmp"
  mv -f "$tmp" "$STATE_FILE"
}

url_for() { printf 'postgresql://postgres@127.0.0.1:%s/postgres' "$1"; }

# Is the server recorded in the state file running and accepting connections?
state_running() {
  read_state || return 1
  [[ -n $S_PID ]] && kill -0 "$S_PID" 2>/dev/null || return 1
  [[ -f $S_DATA/postmaster.pid ]] || return 1
  [[ "$(head -n1 "$S_DATA/postmaster.pid")" == "$S_PID" ]] || return 1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$S_PORT" -t 5 >/dev/null 2>&1
}

# ------------------------------------------------------------------ start ---

pick_port() {
  local p i
  for i in $(seq 1 100); do
    # below the Linux ephemeral range, so outgoing connections don't collide
    p=$(( 20000 + RANDOM % 12000 ))
    port_free "$p" && { echo "$p"; return 0; }
  done
  die "no free TCP port found on 127.0.0.1"
}

cmd_start() {
  with_lock
  cmd_install

  if state_running; then
    printf '%s\n' "$S_URL"
    return 0
  fi
  if read_state; then
    log "removing stale test server state ($S_DIR)"
    if [[ -n $S_PID ]] && kill -0 "$S_PID" 2>/dev/null && [[ -d $S_DATA ]]; then
      as_pg "$PG_BIN/pg_ctl" -D "$S_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    remove_cluster_dir "$S_DIR"
  fi
  rm -f "$STATE_FILE"

  local dir data port pid attempt
  dir="$(mktemp -d "${TMPDIR:-/tmp}/embctl-pg.XXXXXX")"
  touch "$dir/$MARKER"
  data="$dir/data"
  if [[ $EUID -eq 0 ]]; then
    chown -R postgres:postgres "$dir"
  fi
  chmod 755 "$dir"

  log "initdb $data"
  as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; remove_cluster_dir "$dir"; die "initdb failed"; }

  cp "$data/postgresql.conf" "$dir/postgresql.conf.orig"
  for attempt in 1 2 3 4 5; do
    port="${PG_TEST_PORT:-$(pick_port)}"
    cp "$dir/postgresql.conf.orig" "$data/postgresql.conf"
    cat >>"$data/postgresql.conf" <<EOF

# embctl throwaway test server: speed over durability
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
EOF
    log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$port"
    if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -s start >&2 9>&-; then
      break
    fi
    if [[ -n ${PG_TEST_PORT:-} || $attempt -eq 5 ]] || ! grep -q 'could not bind\|could not create any TCP' "$dir/server.log"; then
      tail -n 20 "$dir/server.log" >&2 || true
      remove_cluster_dir "$dir"
      die "pg_ctl start failed (log above)"
    fi
    log "port $port was taken; retrying on another port"
    port=""
  done

  pid="$(head -n1 "$data/postmaster.pid")"
  S_DIR=$dir S_DATA=$data S_PORT=$port S_PID=$pid S_URL="$(url_for "$port")"
  write_state

  local db
  for db in template1 postgres; do
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" \
      -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2 \
      || die "CREATE EXTENSION vector failed in $db (server left running; '$PROG stop' removes it)"
  done
  log "ready: pgvector $("$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "select extversion from pg_extension where extname = 'vector'")"
  printf '%s\n' "$S_URL"
}

# ------------------------------------------------------------- stop / url ---

cmd_stop() {
  with_lock
  if ! read_state; then
    rm -f "$STATE_FILE"
    log "no test server running"
    return 0
  fi
  if [[ -n $S_PID ]] && kill -0 "$S_PID" 2>/dev/null && [[ -f $S_DATA/postmaster.pid ]]; then
    log "stopping PostgreSQL on port $S_PORT"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$S_DATA" -m fast -w -t 60 -s stop >&2; then
      log "pg_ctl stop failed; sending SIGQUIT to $S_PID"
      kill -QUIT "$S_PID" 2>/dev/null || true
      sleep 1
    fi
  else
    log "no test server running (removing stale state)"
  fi
  remove_cluster_dir "$S_DIR"
  rm -f "$STATE_FILE"
}

cmd_url() {
  if state_running; then
    printf '%s\n' "$S_URL"
  else
    die "no test server running (start one with: $PROG start)"
  fi
}

# ------------------------------------------------------------------- main ---

main() {
  [[ $# -eq 1 ]] || { usage; exit 2; }
  case $1 in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    -h|--help|help) usage ;;
    *) printf '%s: error: unknown command: %s\n' "$PROG" "$1" >&2; usage; exit 2 ;;
  esac
}

main "$@"
