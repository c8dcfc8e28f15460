#!/usr/bin/env bash
# Throw-away PostgreSQL 15 + pgvector for the gallery/pgvector tests.
#
#   eval "$(.ci/postgres.sh start)"   # prints export lines: FACEMATCH_TEST_POSTGRES (the DSN)
#                                     # and FACEMATCH_TEST_PGDATA (the cluster directory)
#   go test ./gallery/...
#   .ci/postgres.sh stop "$FACEMATCH_TEST_PGDATA"
#
# start installs Debian's postgresql and postgresql-server-dev-15 when missing, builds and
# installs pgvector from ../shared/vendor/pgvector-0.8.6.tar.gz when the extension is not
# installed (checking the tarball's sha256 against ../shared/vendor/README.md), creates a
# cluster in a fresh temporary directory listening only on a Unix socket in that directory
# (trust authentication: nothing but local processes can reach it), creates database
# "facematch" with the vector extension, and prints the export lines on stdout. All
# progress goes to stderr, so eval sees only the exports.
set -euo pipefail
cd "$(dirname "$0")/.."

PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
PGVECTOR=pgvector-0.8.6
PGVECTOR_TGZ=../shared/vendor/$PGVECTOR.tar.gz
PGVECTOR_SHA256=5743dac39fdfa740533cf95e71b033bd5513b71dda194b3cf19464ccbf76f3fb

log() { printf '%s\n' "$*" >&2; }

# as_pg runs a command as the cluster owner: initdb and postgres refuse to run as root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_postgres() {
  if [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_config" ] && [ -d "/usr/include/postgresql/$PGVER/server" ]; then
    return
  fi
  log "installing postgresql and postgresql-server-dev-$PGVER"
  if [ "$(id -u)" != 0 ]; then log "need root to apt-get install postgresql postgresql-server-dev-$PGVER"; exit 1; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    postgresql "postgresql-server-dev-$PGVER" build-essential) >&2
}

install_pgvector() {
  local extdir
  extdir=$("$PGBIN/pg_config" --sharedir)/extension
  if [ -f "$extdir/vector.control" ]; then return; fi
  [ -f "$PGVECTOR_TGZ" ] || { log "missing $PGVECTOR_TGZ"; exit 1; }
  echo "$PGVECTOR_SHA256  $PGVECTOR_TGZ" | sha256sum -c --quiet - >&2
  local tmp
  tmp=$(mktemp -d)
  log "building $PGVECTOR in $tmp"
  tar xzf "$PGVECTOR_TGZ" -C "$tmp"
  # OPTFLAGS="" keeps the build portable (no -march=native) so the library also runs on
  # another CPU of the same architecture.
  make -s -C "$tmp/$PGVECTOR" PG_CONFIG="$PGBIN/pg_config" OPTFLAGS="" >&2
  make -s -C "$tmp/$PGVECTOR" PG_CONFIG="$PGBIN/pg_config" install >&2
  rm -rf "$tmp"
}

start() {
  install_postgres
  install_pgvector
  local dir
  dir=$(mktemp -d /tmp/facematch-pg.XXXXXX)
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c port=5432" start >&2
  as_pg "$PGBIN/psql" -h "$dir" -U postgres -d postgres -qAt -c 'CREATE DATABASE facematch' >&2
  as_pg "$PGBIN/psql" -h "$dir" -U postgres -d facematch -qAt -c 'CREATE EXTENSION vector' >&2
  echo "export FACEMATCH_TEST_POSTGRES='postgres://postgres@/facematch?host=$dir&port=5432&sslmode=disable'"
  echo "export FACEMATCH_TEST_PGDATA='$dir'"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  case "$dir" in /tmp/facematch-pg.*) ;; *) log "refusing to remove $dir"; exit 1 ;; esac
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  *) log "usage: $0 start | stop DIR"; exit 2 ;;
esac
