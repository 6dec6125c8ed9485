#!/usr/bin/env bash
# Scenario: 10,000 idle websocket Socket.IO clients (server memory per
# connection) and the latency of one broadcast to an organization room of
# 1,000 of them (the other 9,000 sit in another organization): reel beside
# the Express peer's socket.io, the same client in the same run, one server
# at a time, RUNS times (reel and the peer taking turns); each row is the
# median of the runs. Neither processes videos meanwhile (reel runs without
# workers).
#
# Then reel alone holds BENCH_IDLE_SOCKETS (100,000) idle Socket.IO
# WebSockets at once (realtime_idle.mjs) and the clients watch the heartbeat
# for BENCH_IDLE_WINDOW seconds: one run (it takes minutes), and not the
# Express peer, whose socket.io needs ~16 KB a connection.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_SOCKETS:-10000}
M=${BENCH_LISTENERS:-1000}
IDLE=${BENCH_IDLE_SOCKETS:-100000}
WINDOW=${BENCH_IDLE_WINDOW:-60}
# Every socket is a descriptor in the server and in a client process: take
# the hard limit (raising the hard limit itself needs CAP_SYS_RESOURCE, or
# e.g. `docker run --ulimit nofile=131072:131072`, or limits.conf).
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
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# run_reel / run_peer I: one measurement each, on a fresh server and data
# directory; prints the JSON report. Every client comes from 127.0.0.1: the
# per-address session limit is lifted.
run_reel() {
  local p out
  p=$(free_port)
  start_reel "$p" "$TMP/reel$1" REEL_LOG_LEVEL=warn REEL_WORKERS=0 REEL_REALTIME_MAX_PER_ADDRESS=0
  out=$(load "$p" "$STARTED_PID")
  kill "$STARTED_PID"
  wait "$STARTED_PID" 2>/dev/null || true
  echo "$out"
}
run_peer() {
  local p out
  p=$(free_port)
  start_node_peer "$p" "$TMP/express$1"
  out=$(load "$p" "$STARTED_PID")
  kill "$STARTED_PID"
  wait "$STARTED_PID" 2>/dev/null || true
  echo "$out"
}

reels=() peers=()
for i in $(seq 1 "$RUNS"); do
  reels+=("$(run_reel "$i")")
  peers+=("$(run_peer "$i")")
  echo "bench: realtime run $i: reel $(field "${reels[-1]}" rounds) | peer $(field "${peers[-1]}" rounds)" \
    "(ms: total=change→first receipt+first→last)" >&2
done
# med KEY REPORT...: the median of one field over the runs' reports.
med() {
  local k=$1 r v=(); shift
  for r; do v+=("$(field "$r" "$k")"); done
  median "${v[@]}"
}
# worst KEY REPORT...: the largest value of one field over the runs.
worst() {
  local k=$1 r v=(); shift
  for r; do v+=("$(field "$r" "$k")"); done
  printf '%s\n' "${v[@]}" | sort -g | tail -1
}

rb=$(med bytesPerConnection "${reels[@]}"); nb=$(med bytesPerConnection "${peers[@]}")
row "memory per idle websocket connection, bytes ($(med connections "${reels[@]}") vs $(med connections "${peers[@]}") open)" \
  "$rb" "$nb (Express peer's socket.io)" "$(ratio "$rb" "$nb")×"
reel_ms=$(med broadcastMedianMs "${reels[@]}"); node_ms=$(med broadcastMedianMs "${peers[@]}")
row "broadcast to $M sockets, median ms (10 rounds after 3 uncounted warm-up rounds)" "$reel_ms" "$node_ms (Express peer's socket.io)" \
  "$(ratio "$node_ms" "$reel_ms")× faster"
reel_max=$(med broadcastMaxMs "${reels[@]}"); node_max=$(med broadcastMaxMs "${peers[@]}")
row "broadcast to $M sockets, worst of 10 rounds after 3 warm-up rounds, ms (worst of all runs)" \
  "$reel_max ($(worst broadcastMaxMs "${reels[@]}"))" \
  "$node_max ($(worst broadcastMaxMs "${peers[@]}")) (Express peer's socket.io)" "$(ratio "$node_max" "$reel_max")× faster"
plot ratios "broadcast speed vs socket.io" "$(ratio "$node_ms" "$reel_ms")" -
kib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1024}'; }
plot memory "idle Socket.IO connection ($N open)" "$(kib "$rb")" "$(kib "$nb")" -
plot ratios "memory per websocket (socket.io / reel)" "$(ratio "$nb" "$rb")" 5
goal "memory per connection ≤ 1/5 of socket.io's" "$(ratio "$rb" "$nb")×" at_most "$(ratio "$rb" "$nb")" 0.2
goal "worst broadcast round ≤ socket.io's (median of $RUNS runs), median still faster" \
  "$reel_max vs $node_max ms; median $reel_ms vs $node_ms ms" \
  eval "at_most $reel_max $node_max && below $reel_ms $node_ms"

# The idle row. A server descriptor per socket, plus a margin for the rest.
hard=$(ulimit -Hn)
idle=$IDLE limited=""
if [[ $hard != unlimited ]] && ((IDLE > hard - 1000)); then
  idle=$((hard - 1000))
  limited="; the descriptor hard limit here is $hard, so $idle were opened, not $IDLE ($IDLE need nofile ≥ $((IDLE + 1000)) for the server)"
fi
procs=$(((idle + 14999) / 15000))           # client processes below the limit each
addresses=$(((idle + 19999) / 20000 + 1))   # ~28,000 ephemeral ports per source address
p=$(free_port)
start_reel "$p" "$TMP/idle" REEL_LOG_LEVEL=warn REEL_WORKERS=0 REEL_REALTIME_MAX_PER_ADDRESS=0
token=$(register_user "$p" idle)
idle_report=$(node "$BENCH_DIR/realtime_idle.mjs" "$p" "$STARTED_PID" "$idle" "$procs" "$addresses" "$token" "$WINDOW")
kill "$STARTED_PID"
echo "bench: realtime idle: $idle_report" >&2
f() { field "$idle_report" "$1"; }
mb=$(awk -v k="$(f rssAfterKiB)" 'BEGIN{printf "%.0f", k*1024/1e6}')
# What the server would hold at IDLE sockets, at the bytes per socket measured.
projected=$(awk -v k="$(f rssBeforeKiB)" -v b="$(f bytesPerConnection)" -v n="$IDLE" 'BEGIN{printf "%.0f", (k*1024+b*n)/1e6}')
[[ -n $limited ]] && limited="$limited; at $(f bytesPerConnection) B each, $IDLE would take RSS ≈ $projected MB"
row "idle Socket.IO WebSockets held at once: server RSS (MB), bytes/connection; heartbeats over ${WINDOW} s (one run, reel only: the Express peer is not run at this size$limited)" \
  "$(f connected) open, RSS $mb MB, $(f bytesPerConnection) B/conn; $(f pings) pings, $(f latePings) late (>1 s), $(f missedPings) missed, $(f disconnects) disconnects, lateness p99 $(f pingLatenessP99Ms) ms max $(f pingLatenessMaxMs) ms" \
  — —
on_time() {
  [[ $(f connected) -ge 100000 && $(f latePings) -eq 0 && $(f missedPings) -eq 0 && $(f disconnects) -eq 0 ]] &&
    below "$mb" 300
}
goal "100,000 idle Socket.IO WebSockets, server RSS < 300 MB, heartbeats on time (none late > 1 s, missed, or dropped)" \
  "$(f connected) open$limited; RSS $mb MB ($(f bytesPerConnection) B/conn); $(f latePings) late, $(f missedPings) missed, $(f disconnects) dropped" \
  on_time
