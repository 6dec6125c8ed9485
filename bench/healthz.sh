#!/usr/bin/env bash
# Scenario: GET /healthz, reel beside the Express peer (its middleware stack
# on every request, as reel's) and a bare Node.js http server (the floor of
# what Node can do), the same wrk load in the same run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-50}

rp=$(free_port); start_reel "$rp" "$TMP/reel"
ep=$(free_port); start_node_peer "$ep" "$TMP/express"
np=$(free_port); node "$BENCH_DIR/peers/node/healthz.cjs" "$np" >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$np/healthz"

# Warm all up, then measure one after the other so that drift hits all alike.
for p in "$rp" "$ep" "$np"; do wrk_run "http://127.0.0.1:$p/healthz" "$CONNS" 2 >/dev/null; done
read -r reel_rps reel_p99 < <(wrk_run "http://127.0.0.1:$rp/healthz" "$CONNS" "$DUR")
read -r exp_rps exp_p99 < <(wrk_run "http://127.0.0.1:$ep/healthz" "$CONNS" "$DUR")
read -r node_rps node_p99 < <(wrk_run "http://127.0.0.1:$np/healthz" "$CONNS" "$DUR")

row "/healthz requests/s ($CONNS conns)" "$reel_rps" "$exp_rps (Express peer)" "$(ratio "$reel_rps" "$exp_rps")×"
row "/healthz requests/s ($CONNS conns)" "$reel_rps" "$node_rps (bare node http)" "$(ratio "$reel_rps" "$node_rps")×"
row "/healthz p99 ms under that load" "$reel_p99" "$exp_p99 (Express) / $node_p99 (bare node)" \
  "$(ratio "$exp_p99" "$reel_p99")× / $(ratio "$node_p99" "$reel_p99")× lower"
plot ratios "/healthz vs Express" "$(ratio "$reel_rps" "$exp_rps")" -
plot ratios "/healthz vs bare node http" "$(ratio "$reel_rps" "$node_rps")" -
