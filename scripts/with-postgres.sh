#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: a fresh cluster in a
# temporary directory, listening only on a Unix socket, removed afterwards.
# The command sees its connection string in RAPPORT_TEST_POSTGRES.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/rapport-pg.XXXXXX)
run=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$dir"
  run=(runuser -u postgres --)
fi
cleanup() {
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
export RAPPORT_TEST_POSTGRES="host=$dir port=5432 user=postgres dbname=postgres"
"$@"
