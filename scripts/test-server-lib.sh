# test-server-lib.sh: what scripts/pg-test-server.sh and
# scripts/citus-test-cluster.sh share. Sourced after the caller has set
# PROG (its name in messages), MARKER (the file that marks the folders it
# made) and STATE_FILE.

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# Run a command as the owner of the cluster: PostgreSQL refuses to run as root.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Only ever delete directories this script created.
remove_cluster_dir() {
  local d=$1
  [[ -n $d && -d $d ]] || return 0
  [[ -f $d/$MARKER ]] || die "refusing to delete $d: not created by $PROG"
  rm -rf -- "$d"
}

# Serialise install/start/stop between concurrent callers (parallel test
# runners). fd 9 must not leak into a server (pg_ctl ... 9>&-), or a
# postmaster would hold the lock for its whole life.
LOCKED=0
with_lock() {
  [[ $LOCKED -eq 1 ]] && return 0
  mkdir -p "$(dirname "$STATE_FILE")"
  exec 9>"$STATE_FILE.lock"
  flock -w 900 9 || die "timed out waiting for the lock $STATE_FILE.lock"
  LOCKED=1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null &&
    ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}
