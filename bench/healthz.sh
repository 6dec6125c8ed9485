#!/usr/bin/env bash
# Scenario: GET /healthz, reel beside a minimal Node.js http server, same wrk
# load in the same run. Prints one markdown table row per figure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-50}
tmp=$(mktemp -d)

rp=$(free_port); start_reel "$rp" "$tmp/reel"
np=$(free_port); node "$BENCH_DIR/peers/node/healthz.cjs" "$np" >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$np/healthz"

# Warm both up, then measure alternately so that drift hits both alike.
wrk_run "http://127.0.0.1:$rp/healthz" "$CONNS" 2 >/dev/null
wrk_run "http://127.0.0.1:$np/healthz" "$CONNS" 2 >/dev/null
read -r reel_rps reel_p99 < <(wrk_run "http://127.0.0.1:$rp/healthz" "$CONNS" "$SECONDS_PER_RUN")
read -r node_rps node_p99 < <(wrk_run "http://127.0.0.1:$np/healthz" "$CONNS" "$SECONDS_PER_RUN")

echo "| /healthz requests/s ($CONNS conns) | $reel_rps | $node_rps (node http) | $(ratio "$reel_rps" "$node_rps")× |"
echo "| /healthz p99 ms | $reel_p99 | $node_p99 (node http) | $(ratio "$node_p99" "$reel_p99")× lower |"
rm -rf "$tmp"
