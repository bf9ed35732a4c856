#!/usr/bin/env bash
# End-to-end test of the Segment tracking API against the built `rapport`
# binary: creates a source and an admin key in a fresh data directory, serves
# it on 127.0.0.1 (a free port), then
#   1. sends the payloads of Segment's HTTP API documentation
#      (tests/server/segment/*.json with status 200) with plain curl, and
#   2. runs Segment's own Node SDK (@segment/analytics-node, installed by
#      `npm ci` here; `make test` runs it) against it: e2e.mjs.
# Usage: run.sh RAPPORT_BINARY SOURCE_DIR. Exits 77 (skipped) without node.
set -euo pipefail
rapport=$1
src=$2
sdk_dir="$src/tests/ingest/segment-sdk"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIPPED: node and npm are needed for the Segment SDK test (Node 20 or later)"
  exit 77
fi
if [ ! -d "$sdk_dir/node_modules/@segment/analytics-node" ]; then
  (cd "$sdk_dir" && npm ci --no-audit --no-fund --silent)
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/rapport-segment-e2e.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

write_key=$("$rapport" sources create website --data "$data/db" | tail -1)
admin_key=$("$rapport" keys create --data "$data/db" --role admin | tail -1)
"$rapport" serve --data "$data/db" --listen 127.0.0.1:0 >"$data/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$data/serve.log" | head -1 || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "the server did not start"; cat "$data/serve.log"; exit 1; }

# 1. Segment's documented payloads with curl.
for fixture in "$src"/tests/server/segment/*.json; do
  status=$(node -e 'const f=require(process.argv[1]); process.stdout.write(String(f.status))' "$fixture")
  [ "$status" = 200 ] || continue
  path=$(node -e 'const f=require(process.argv[1]); process.stdout.write(f.path)' "$fixture")
  node -e 'const f=require(process.argv[1]); process.stdout.write(JSON.stringify(f.body))' "$fixture" >"$data/body.json"
  code=$(curl -s -o "$data/reply.json" -w '%{http_code}' -u "$write_key:" -H 'Content-Type: application/json' \
         --data-binary @"$data/body.json" "$url$path")
  if [ "$code" != 200 ]; then
    echo "curl $path ($(basename "$fixture")): HTTP $code: $(cat "$data/reply.json")"
    exit 1
  fi
done
curl -s -H "Authorization: Bearer $admin_key" "$url/v1/customers?q=segment.user:019mr8mf4r" >"$data/found.json"
id=$(node -e 'const r=require(process.argv[1]); if (r.items.length !== 1) process.exit(1); process.stdout.write(String(r.items[0].id))' "$data/found.json") \
  || { echo "curl: no customer for userId 019mr8mf4r: $(cat "$data/found.json")"; exit 1; }
curl -s -H "Authorization: Bearer $admin_key" "$url/v1/customers/$id/view" >"$data/view.json"
node -e '
  const v = require(process.argv[1]);
  const types = new Set((v.sections.recentEvents || []).map((e) => e.type));
  for (const t of ["identify", "track", "page", "screen", "group", "alias"]) {
    if (!types.has(t)) { console.error("curl: the 360 view lacks " + t + ": " + JSON.stringify(v.sections)); process.exit(1); }
  }
  console.log("curl: Segment documentation payloads on customer " + v.customer.id);' "$data/view.json"

# 2. Segment's Node SDK.
RAPPORT_URL=$url RAPPORT_WRITE_KEY=$write_key RAPPORT_ADMIN_KEY=$admin_key node "$sdk_dir/e2e.mjs"
