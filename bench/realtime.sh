#!/usr/bin/env bash
# Scenario: 10,000 idle websocket Socket.IO clients (server memory per
# connection) and the latency of one broadcast to an organization room of
# 1,000 of them, twice: 1,000 socket.io-client listeners in one organization,
# 1,000 bare Engine.IO listeners in another, the rounds taking turns (the
# other 8,000 sit in a third): reel beside the Express peer's socket.io, the
# same clients in the same run, one server at a time, RUNS times (reel and
# the peer taking turns); each row is the median of the runs. Neither processes videos meanwhile (reel runs without
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

# load PORT PID: registers the three organizations' users (socket.io-client
# listeners, bare Engine.IO listeners, idle sockets), uploads the video of
# each listening organization whose edits are broadcast, and prints
# realtime_load.mjs's JSON report.
load() {
  local token idle_token raw_token vid raw_vid
  token=$(register_user "$1" listen)
  idle_token=$(register_user "$1" idle)
  raw_token=$(register_user "$1" raw)
  vid=$(upload_raw "$1" "$token" "$TMP/small.mp4")
  raw_vid=$(upload_raw "$1" "$raw_token" "$TMP/small.mp4")
  node "$BENCH_DIR/realtime_load.mjs" "$1" "$2" "$N" "$M" "$token" "$idle_token" "$vid" "$raw_token" "$raw_vid"
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
  echo "bench: realtime run $i: socket.io-client listeners: reel $(field "${reels[-1]}" broadcastRounds)" \
    "| peer $(field "${peers[-1]}" broadcastRounds) (ms: total=change→first receipt+first→last)" >&2
  echo "bench: realtime run $i: bare listeners: reel $(field "${reels[-1]}" rawRounds)" \
    "| peer $(field "${peers[-1]}" rawRounds)" >&2
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
# broadcast_rows KEY WHO: the median and worst-round rows of one kind of
# listener (KEY, the report's prefix; WHO names them in the rows); leaves the
# figures in rmed nmed (medians) and rmax nmax (worst rounds), reel's and the peer's.
broadcast_rows() {
  local key=$1 who=$2
  rmed=$(med "${key}MedianMs" "${reels[@]}"); nmed=$(med "${key}MedianMs" "${peers[@]}")
  rmax=$(med "${key}MaxMs" "${reels[@]}"); nmax=$(med "${key}MaxMs" "${peers[@]}")
  row "broadcast to $M sockets ($who), median ms (10 rounds after 3 uncounted warm-up rounds)" "$rmed" \
    "$nmed (Express peer's socket.io)" "$(ratio "$nmed" "$rmed")× faster"
  row "broadcast to $M sockets ($who), worst of 10 rounds after 3 warm-up rounds, ms (worst of all runs)" \
    "$rmax ($(worst "${key}MaxMs" "${reels[@]}"))" \
    "$nmax ($(worst "${key}MaxMs" "${peers[@]}")) (Express peer's socket.io)" "$(ratio "$nmax" "$rmax")× faster"
}
# socket.io-client listeners, all in one Node.js process: decoding 1,000
# messages there takes 30-50 ms of its CPU against either server, most of
# each round. Bare Engine.IO listeners only stamp each frame's arrival: their
# rounds are the servers' fan-out, and the goal.
broadcast_rows broadcast "socket.io-client listeners"
client_figures="with socket.io-client listeners $rmax vs $nmax ms, median $rmed vs $nmed ms"
broadcast_rows raw "bare Engine.IO listeners"
plot ratios "broadcast speed vs socket.io" "$(ratio "$nmed" "$rmed")" -
kib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1024}'; }
plot memory "idle Socket.IO connection ($N open)" "$(kib "$rb")" "$(kib "$nb")" -
plot ratios "memory per websocket (socket.io / reel)" "$(ratio "$nb" "$rb")" 5
goal "memory per connection ≤ 1/5 of socket.io's" "$(ratio "$rb" "$nb")×" at_most "$(ratio "$rb" "$nb")" 0.2
goal "worst broadcast round ≤ socket.io's (bare Engine.IO listeners, median of $RUNS runs), median still faster" \
  "$rmax vs $nmax ms; median $rmed vs $nmed ms ($client_figures: the client's decoding)" \
  eval "at_most $rmax $nmax && below $rmed $nmed"

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
