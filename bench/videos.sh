#!/usr/bin/env bash
# Scenario: authenticated GET /api/videos (Bearer token, organization scope,
# newest first, the default page of 20 videos), reel beside the Express peer.
# Both are seeded through their own API with the same 20 small uploads; reel
# runs without workers, so the videos stay queued on both sides and the
# answers have the same shape and size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-50}

rp=$(free_port); start_reel "$rp" "$TMP/reel" REEL_WORKERS=0
ep=$(free_port); start_node_peer "$ep" "$TMP/express"
head -c 4096 /dev/urandom >"$TMP/small.mp4"
declare -A token
for p in "$rp" "$ep"; do
  token[$p]=$(register_user "$p")
  for _ in $(seq 1 20); do upload_raw "$p" "${token[$p]}" "$TMP/small.mp4" >/dev/null; done
done

# The two answers must agree in shape (the same keys in every video) and
# count, else the comparison would not be fair.
shape() {
  curl -fs -H "Authorization: Bearer ${token[$1]}" "http://127.0.0.1:$1/api/videos" | python3 -c '
import json, sys
page = json.load(sys.stdin)
print(len(page["videos"]), sorted(page), sorted({k for v in page["videos"] for k in v}))'
}
reel_shape=$(shape "$rp"); node_shape=$(shape "$ep")
if [[ $reel_shape != "$node_shape" || $reel_shape != 20* ]]; then
  echo "bench: /api/videos answers differ: reel $reel_shape; Express $node_shape" >&2; exit 1
fi
bytes() { curl -fs -o /dev/null -w '%{size_download}' -H "Authorization: Bearer ${token[$1]}" "http://127.0.0.1:$1/api/videos"; }

list() { wrk_run "http://127.0.0.1:$1/api/videos" "$CONNS" "$2" -H "Authorization: Bearer ${token[$1]}"; }
# reel answers repeated identical lists from a cache that any change in the
# organization drops (REEL_LIST_CACHE_MS, 1 s by default); a second reel on
# the same data, with the cache off, shows the cost of a query per request.
up=$(free_port); start_reel "$up" "$TMP/reel" REEL_WORKERS=0 REEL_LIST_CACHE_MS=0
token[$up]=${token[$rp]}
# The same on PostgreSQL: a reel with the default list cache and one without,
# both on one database, seeded alike through the API.
start_postgres
pp=$(free_port); start_reel "$pp" "$TMP/reel-pg" REEL_WORKERS=0 REEL_DATABASE_URL="$PG_URL"
token[$pp]=$(register_user "$pp")
for _ in $(seq 1 20); do upload_raw "$pp" "${token[$pp]}" "$TMP/small.mp4" >/dev/null; done
pu=$(free_port); start_reel "$pu" "$TMP/reel-pg" REEL_WORKERS=0 REEL_LIST_CACHE_MS=0 REEL_DATABASE_URL="$PG_URL"
token[$pu]=${token[$pp]}
if [[ $(shape "$pu") != "$node_shape" ]]; then
  echo "bench: /api/videos answers differ: reel on PostgreSQL $(shape "$pu"); Express $node_shape" >&2; exit 1
fi

# RUNS runs; in each, the five servers one after the other, so that every
# ratio compares figures taken moments apart. A row shows the median of the
# runs' figures, and the median of the runs' ratios.
servers=("$rp" "$up" "$ep" "$pp" "$pu")
for p in "${servers[@]}"; do list "$p" 2 >/dev/null; done
declare -A rps p99 ratios last
for _ in $(seq 1 "$RUNS"); do
  for p in "${servers[@]}"; do
    read -r r99 < <(list "$p" "$DUR")
    rps[$p]+="${r99%% *} "; p99[$p]+="${r99##* } "
    last[$p]=${r99%% *}
  done
  for p in "$rp" "$up" "$pp" "$pu"; do ratios[$p]+="$(ratio "${last[$p]}" "${last[$ep]}") "; done
done
# shellcheck disable=SC2086 # the lists are space-separated numbers
for p in "${servers[@]}"; do
  rps[$p]=$(median ${rps[$p]}); p99[$p]=$(median ${p99[$p]})
  [[ $p == "$ep" ]] || ratios[$p]=$(median ${ratios[$p]})
done
node_rps=${rps[$ep]}; node_p99=${p99[$ep]}
r=${ratios[$rp]}; ru=${ratios[$up]}; rp_pg=${ratios[$pp]}; ru_pg=${ratios[$pu]}
n="median of $RUNS runs"
row "GET /api/videos requests/s, list cache on (Bearer, 20 videos: $(bytes "$rp") vs $(bytes "$ep") bytes, $CONNS conns; $n)" \
  "${rps[$rp]}" "$node_rps (Express peer)" "$r×"
row "GET /api/videos p99 ms under that load, list cache on" "${p99[$rp]}" "$node_p99 (Express peer)" \
  "$(ratio "$node_p99" "${p99[$rp]}")× lower"
row "GET /api/videos requests/s with reel's list cache off (a query per request; $n)" \
  "${rps[$up]}" "$node_rps (Express peer)" "$ru×"
row "GET /api/videos p99 ms, list cache off" "${p99[$up]}" "$node_p99 (Express peer)" \
  "$(ratio "$node_p99" "${p99[$up]}")× lower"
row "GET /api/videos requests/s on PostgreSQL, list cache on ($n)" "${rps[$pp]}" \
  "$node_rps (Express peer on SQLite)" "$rp_pg×"
row "GET /api/videos requests/s on PostgreSQL, list cache off (a query per request; $n)" "${rps[$pu]}" \
  "$node_rps (Express peer on SQLite)" "$ru_pg×"
row "GET /api/videos p99 ms on PostgreSQL, list cache off" "${p99[$pu]}" "$node_p99 (Express peer)" \
  "$(ratio "$node_p99" "${p99[$pu]}")× lower"
plot ratios "GET /api/videos vs Express" "$r" 10
plot ratios "GET /api/videos, list cache off" "$ru" 10
plot ratios "GET /api/videos on PostgreSQL, list cache off" "$ru_pg" 5
goal "reel ≥ 10× the Node peer on authenticated API requests/s (GET /api/videos, reel's default list cache on)" \
  "$r×" at_least "$r" 10
goal "reel ≥ 10× the Node peer on GET /api/videos with the list cache off (a query per request, SQLite)" \
  "$ru×" at_least "$ru" 10
goal "reel on PostgreSQL ≥ 5× the Node peer (on SQLite) on GET /api/videos with the list cache off" \
  "$ru_pg×" at_least "$ru_pg" 5
