#!/usr/bin/env bash
# Scenario: 10,000 idle websocket Socket.IO clients (server memory per
# connection) and the latency of one broadcast to an organization room of
# 1,000 of them (the other 9,000 sit in another organization): reel beside
# the Express peer's socket.io, the same client in the same run, one server
# at a time. Neither processes videos meanwhile (reel runs without workers).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_SOCKETS:-10000}
M=${BENCH_LISTENERS:-1000}
ulimit -n "$(ulimit -Hn)"
head -c 4096 /dev/urandom >"$TMP/small.mp4"

# load PORT PID: registers the two organizations' users, uploads the video
# whose edits are broadcast, and prints realtime_load.mjs's JSON report.
load() {
  local token idle_token vid
  token=$(register_user "$1" listen)
  idle_token=$(register_user "$1" idle)
  vid=$(upload_raw "$1" "$token" "$TMP/small.mp4")
  node "$BENCH_DIR/realtime_load.mjs" "$1" "$2" "$N" "$M" "$token" "$idle_token" "$vid"
}
# Every client comes from 127.0.0.1: lift the per-address session limit.
rp=$(free_port); start_reel "$rp" "$TMP/reel" REEL_LOG_LEVEL=warn REEL_WORKERS=0 REEL_REALTIME_MAX_PER_ADDRESS=0
reel=$(load "$rp" "$STARTED_PID")
kill "$STARTED_PID"
ep=$(free_port); start_node_peer "$ep" "$TMP/express"
node=$(load "$ep" "$STARTED_PID")

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
rb=$(field "$reel" bytesPerConnection); nb=$(field "$node" bytesPerConnection)
row "memory per idle websocket connection, bytes ($(field "$reel" connections) vs $(field "$node" connections) open)" \
  "$rb" "$nb (Express peer's socket.io)" "$(ratio "$rb" "$nb")×"
reel_ms=$(field "$reel" broadcastMedianMs); node_ms=$(field "$node" broadcastMedianMs)
row "broadcast to $M sockets, median ms (10 rounds)" "$reel_ms" "$node_ms (Express peer's socket.io)" \
  "$(ratio "$node_ms" "$reel_ms")× faster"
row "broadcast to $M sockets, max ms" "$(field "$reel" broadcastMaxMs)" "$(field "$node" broadcastMaxMs) (Express peer's socket.io)" —
plot ratios "broadcast speed vs socket.io" "$(ratio "$node_ms" "$reel_ms")" -
kib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1024}'; }
plot memory "idle Socket.IO connection ($N open)" "$(kib "$rb")" "$(kib "$nb")" -
plot ratios "memory per websocket (socket.io / reel)" "$(ratio "$nb" "$rb")" 5
goal "memory per connection ≤ 1/5 of socket.io's" "$(ratio "$rb" "$nb")×" at_most "$(ratio "$rb" "$nb")" 0.2
