#!/usr/bin/env bash
# Scenario: reel as a cluster on this one machine (scripts/cluster:
# PostgreSQL, Redis, API nodes api1 and api2, two workers, HAProxy with
# deploy/haproxy.cfg), all sharing its cores with the load clients.
#  1. Events across nodes (cluster_latency.mjs): worker → a Socket.IO client
#     connected directly to api2 (and one on api1), timed against Redis; and a
#     title edit on api1 → video:updated on a socket on api2 versus one on api1.
#  2. GET /api/videos requests/s through the balancer with both API nodes in
#     rotation, then with api2 disabled on HAProxy's admin socket (one node
#     behind it), then straight to api1 (no balancer); list cache on (the
#     default), the organization's videos from part 1.
# The nodes, HAProxy, PostgreSQL, Redis and wrk all run on the same cores:
# two nodes cannot be twice one here, and the figures say nothing of hosts
# of their own.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
CLIPS=${BENCH_CLIPS:-48}
PATCHES=${BENCH_PATCHES:-300}
export REEL_BINARY=${REEL_BINARY:-$REEL}
CLUSTER=$TMP/cluster
# As root, PostgreSQL runs as the postgres user: it must reach $CLUSTER/postgres.
chmod o+x "$TMP"
cluster_cleanup() {
  "$ROOT/scripts/cluster" down --purge "$CLUSTER" >/dev/null 2>&1 || true
  cleanup
}
trap cluster_cleanup EXIT
# Every load comes from 127.0.0.1: the per-address connection limit is off,
# as for the single node of the other scenarios.
REEL_CLUSTER_PORT=0 REEL_MAX_CONNECTIONS_PER_ADDRESS=0 "$ROOT/scripts/cluster" up --watch $$ "$CLUSTER" >&2
# shellcheck disable=SC1091
source "$CLUSTER/cluster.env"

token=$(register_user "${API1_URL##*:}" cluster)
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -f lavfi -i sine=frequency=440:duration=4 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$TMP/clip.mp4"

# ---- 1. Events across nodes.
report=$(node "$BENCH_DIR/cluster_latency.mjs" "$CLUSTER/cluster.env" "$TMP/clip.mp4" "$token" "$CLIPS" "$PATCHES")
# field PATH: a value of the report ("worker.readToApi2.p99"); "p50 / p99 / max" of a series.
field() { python3 -c "import json,sys; v=json.loads(sys.argv[1])
for k in sys.argv[2].split('.'): v=v[int(k)] if isinstance(v, list) else v[k]
print(v)" "$report" "$1"; }
three() { echo "$(field "$1.p50") / $(field "$1.p99") / $(field "$1.max")"; }
events=$(field worker.readToApi2.n)
edits=$(field patch.sentToApi2.n)
if ((events == 0 || edits == 0)); then echo "bench: no events matched: $report" >&2; exit 1; fi
# Events that never reached a socket (none expected): said in the rows, not hidden.
missed() { local n; n=$(field "$1"); ((n == 0)) || echo "; $n never arrived"; }
row "event from a worker → Socket.IO client on api2, ms after Redis handed its stream entry to a reader (p50 / p99 / max; $events events, $CLIPS clips processed meanwhile$(missed worker.missing.api2))" \
  "$(three worker.readToApi2)" "$(three worker.readToApi1) (client on api1)" —
row "event from a worker → client on api2, ms after Redis ran the worker's XADD (p50 / p99 / max)" \
  "$(three worker.xaddToApi2)" "$(three worker.xaddToRead) (XADD → the bench's own XREAD)" —
row "title edit on api1 → video:updated on a client on api2, ms after the request was written (p50 / p99 / max; $edits edits, one at a time$(missed patch.missing))" \
  "$(three patch.sentToApi2)" "$(three patch.sentToApi1) (client on api1) / $(three patch.sentToAnswer) (the answer)" \
  "$(awk -v a="$(field patch.sentToApi2.p50)" -v b="$(field patch.sentToApi1.p50)" 'BEGIN{printf "%+.2f", a-b}') ms p50 on the other node"
echo "bench: cluster events: Redis' clock (MONITOR) put on the bench's with TIME, round trips $(field clock.rttUs.0) and $(field clock.rttUs.1) µs;" \
  "not timed: the worker's own hop to Redis before its XADD runs (one write on loopback TCP)" >&2

# ---- 2. GET /api/videos through the balancer.
# lb COMMAND: HAProxy's admin socket (no socat needed).
lb() {
  python3 - "$LB_STATS_SOCKET" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while chunk := s.recv(65536):
    out += chunk
sys.stdout.write(out.decode())
EOF
}
# stat NODE COLUMN: a column of HAProxy's "show stat" for that API node (req_tot, status, ...).
stat() {
  lb "show stat" | awk -F, -v n="$1" -v c="$2" \
    'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next } $1 == "reel_api" && $2 == n { print $col[c] }'
}
served() { echo "$(stat api1 req_tot) $(stat api2 req_tot)"; }
list() { wrk_run "$1/api/videos" "$CONNS" "$2" -H "Authorization: Bearer $token"; }
# CPU ticks so far: HAProxy, api1, api2 (each a process: its threads and
# all), and the whole machine's busy time (every core).
ticks() {
  local n
  for n in haproxy api1 api2; do awk '{printf "%d ", $14 + $15}' "/proc/$(cat "$DIR/pids/$n.pid")/stat"; done
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}
# measure URL: a warm-up, then wrk for DUR seconds; sets RPS, P99 and CPU
# ("HAProxy / api1 / api2 / the rest": % of one core over the run, the rest
# being wrk, the kernel, PostgreSQL, Redis and whatever else ran).
measure() {
  local before after t0 t1 out
  list "$1" 2 >/dev/null
  before=$(ticks); t0=$(date +%s.%N)
  out=$(list "$1" "$DUR")
  after=$(ticks); t1=$(date +%s.%N)
  read -r RPS P99 <<<"$out"
  CPU=$(awk -v b="$before" -v a="$after" -v s="$(awk -v x="$t0" -v y="$t1" 'BEGIN{print y - x}')" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    n = split(b, x, " "); split(a, y, " "); rest = y[n] - x[n]
    for (i = 1; i < n; i++) { d = y[i] - x[i]; rest -= d; printf "%.0f / ", 100 * d / hz / s }
    printf "%.0f", 100 * rest / hz / s }')
}
bytes=$(curl -fs -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $token" "$LB_URL/api/videos")
count=$(curl -fs -H "Authorization: Bearer $token" "$LB_URL/api/videos" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["videos"]))')

read -r a0 b0 < <(served)
measure "$LB_URL"; lb2_rps=$RPS lb2_p99=$P99 lb2_cpu=$CPU
read -r a1 b1 < <(served)
share=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) 'BEGIN{ if (a + b) printf "%.0f/%.0f", 100*a/(a+b), 100*b/(a+b); else print "?" }')

lb "disable server reel_api/api2" >/dev/null
[[ $(stat api2 status) == MAINT ]] || { echo "bench: HAProxy did not put api2 in maintenance: $(stat api2 status)" >&2; exit 1; }
read -r a0 b0 < <(served)
measure "$LB_URL"; lb1_rps=$RPS lb1_p99=$P99 lb1_cpu=$CPU
read -r a1 b1 < <(served)
((b1 == b0)) || { echo "bench: api2 answered $((b1 - b0)) requests while disabled" >&2; exit 1; }
lb "enable server reel_api/api2" >/dev/null

measure "$API1_URL"; d_rps=$RPS d_p99=$P99 d_cpu=$CPU

row "GET /api/videos requests/s through HAProxy, 2 API nodes (PostgreSQL, list cache on, $count videos: $bytes bytes, $CONNS conns; api1/api2 answered $share %)" \
  "$lb2_rps" "$lb1_rps (1 node behind HAProxy) / $d_rps (api1 direct, no balancer)" \
  "$(ratio "$lb2_rps" "$lb1_rps")× / $(ratio "$lb2_rps" "$d_rps")× (all on the same $(nproc) cores)"
row "GET /api/videos p99 ms under that load, 2 API nodes through HAProxy" "$lb2_p99" \
  "$lb1_p99 (1 node behind HAProxy) / $d_p99 (api1 direct)" —
row "CPU during those runs, % of one core: HAProxy / api1 / api2 / the rest (wrk, kernel, PostgreSQL, Redis, others)" \
  "$lb2_cpu (2 nodes)" "$lb1_cpu (1 node behind HAProxy) / $d_cpu (api1 direct)" —
w99=$(field worker.readToApi2.p99); e99=$(field patch.sentToApi2.p99)
goal "an event reaches a socket on another node with p99 < 50 ms (worker → api2 after Redis; edit on api1 → api2 from the request)" \
  "$w99 ms / $e99 ms" below "$(awk -v a="$w99" -v b="$e99" 'BEGIN{print (a > b ? a : b)}')" 50
