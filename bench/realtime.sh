#!/usr/bin/env bash
# Scenario: 10,000 idle websocket Socket.IO clients (server memory per
# connection) and the latency of one broadcast to an organization room of
# 1,000 of them (the other 9,000 sit in another organization):
# reel beside Node's socket.io server, the same client in the same run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_SOCKETS:-10000}
M=${BENCH_LISTENERS:-1000}
ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)

rp=$(free_port); start_reel "$rp" "$tmp/reel" REEL_LOG_LEVEL=warn
token=$(register_user "$rp")
ffmpeg -v error -y -f lavfi -i testsrc2=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$tmp/c.mp4"
vid=$(upload_raw "$rp" "$token" "$tmp/c.mp4")
idle_token=$(curl -fs -X POST "http://127.0.0.1:$rp/api/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"idle@example.com","password":"correct horse battery","name":"Idle","organizationName":"Idle"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
reel_pid=$(pgrep -f "reel serve --host 127.0.0.1 --port $rp")
reel=$(node "$BENCH_DIR/realtime_load.mjs" "$rp" "$reel_pid" "$N" "$M" "$token" "$idle_token" "reel:$vid")

np=$(free_port)
node "$BENCH_DIR/peers/node/socketio.mjs" "$np" >/dev/null & PIDS+=($!)
node_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$np/socket.io/?EIO=4&transport=polling" && break; sleep 0.1; done
node=$(node "$BENCH_DIR/realtime_load.mjs" "$np" "$node_pid" "$N" "$M" "listen" "idle" "node")

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
rb=$(field "$reel" bytesPerConnection); nb=$(field "$node" bytesPerConnection)
echo "| memory per idle websocket connection, bytes ($(field "$reel" connections) vs $(field "$node" connections) open) | $rb | $nb (node socket.io) | $(ratio "$rb" "$nb")× |"
echo "| broadcast to $M sockets, median ms (10 rounds) | $(field "$reel" broadcastMedianMs) | $(field "$node" broadcastMedianMs) (node socket.io) | $(ratio "$(field "$node" broadcastMedianMs)" "$(field "$reel" broadcastMedianMs)")× faster |"
echo "| broadcast to $M sockets, max ms | $(field "$reel" broadcastMaxMs) | $(field "$node" broadcastMaxMs) (node socket.io) | — |"
rm -rf "$tmp"
