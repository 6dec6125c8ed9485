#!/usr/bin/env bash
# Scenario: a login storm (50 concurrent logins: reel hashes with argon2id on
# its own hashing threads, the Express peer with scrypt on libuv's pool), then
# a registration storm (50 concurrent registrations, each a new account), and at the
# same time, /healthz latency from a paced probe: the loop must stay
# responsive (reel's target: p99 < 5 ms). /healthz p99 on the idle server
# first, as the baseline. reel, then the Express peer, alone on the machine.
#
# The floor: a third login storm on a fresh reel while the same probe asks
# nginx for a small static file. nginx does nothing else, so its p99 and max
# are what this machine and the probe give under that load (a shared
# machine's scheduling, the probe's own wake-ups), whatever the server.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}

# storm PORT NAME [SCRIPT PATH [PROBE_URL]]: prints "requests/s idle_p99
# busy_p99 busy_max" (the probe asks PROBE_URL, by default the server's /healthz)
storm() {
  local url=http://127.0.0.1:$1 script=${3:-login} path=${4:-/api/auth/login}
  local probe=${5:-http://127.0.0.1:$1/healthz}
  [[ $script == login ]] && register_user "$1" >/dev/null
  latency_probe "$probe" 1 >/dev/null  # warm-up (JIT on the Node side)
  read -r _ idle_p99 _ _ < <(latency_probe "$probe" 3)
  wrk -t1 -c50 -d"${DUR}s" --timeout 30s -s "$BENCH_DIR/$script.lua" "$url$path" >"$TMP/storm-$2.txt" &
  local wrk_pid=$!
  sleep 1
  read -r _ busy_p99 busy_max _ < <(latency_probe "$probe" $((DUR - 2)))
  wait $wrk_pid
  if grep -qE 'Non-2xx|Socket errors' "$TMP/storm-$2.txt"; then
    echo "bench: failed $script requests on $2: $(grep -E 'Non-2xx|Socket errors' "$TMP/storm-$2.txt")" >&2; return 1
  fi
  echo "$(awk '/Requests\/sec:/ {print $2}' "$TMP/storm-$2.txt") $idle_p99 $busy_p99 $busy_max"
}

start_nginx "$TMP/nginx"
echo ok >"$TMP/nginx/www/ok.txt"
floor_url=http://127.0.0.1:$NGINX_PORT/ok.txt
wait_http "$floor_url"

# one_run: one login and one registration storm on a fresh reel, then on a
# fresh Express peer, then the floor; prints the 17 figures of the rows
# below, in order.
one_run() {
  local n=$1 rp ep reel_pid node_pid a b regs busy max
  rp=$(free_port); start_reel "$rp" "$TMP/reel-$n"; reel_pid=$STARTED_PID
  a=$(storm "$rp" "reel-$n")
  read -r regs _ busy max < <(storm "$rp" "reel-register-$n" register /api/auth/register)
  kill "$reel_pid"
  b="$regs $busy $max"
  ep=$(free_port); start_node_peer "$ep" "$TMP/express-$n"; node_pid=$STARTED_PID
  local c d
  c=$(storm "$ep" "express-$n")
  read -r regs _ busy max < <(storm "$ep" "express-register-$n" register /api/auth/register)
  kill "$node_pid"
  d="$regs $busy $max"
  local fp floor_pid f idle
  fp=$(free_port); start_reel "$fp" "$TMP/floor-$n"; floor_pid=$STARTED_PID
  read -r _ idle busy max < <(storm "$fp" "floor-$n" login /api/auth/login "$floor_url")
  kill "$floor_pid"
  f="$idle $busy $max"
  echo "$a $b $c $d $f"
}

# Each figure is the median of RUNS runs (reel and the peer alternate, so
# both see the same machine).
runs=()
for ((i = 1; i <= RUNS; i++)); do runs+=("$(one_run "$i")"); done
m() { median $(column "$1" "${runs[@]}"); }
reel_logins=$(m 1) reel_idle=$(m 2) reel_busy=$(m 3) reel_max=$(m 4)
reel_regs=$(m 5) reel_reg_busy=$(m 6) reel_reg_max=$(m 7)
node_logins=$(m 8) node_idle=$(m 9) node_busy=$(m 10) node_max=$(m 11)
node_regs=$(m 12) node_reg_busy=$(m 13) node_reg_max=$(m 14)
floor_idle=$(m 15) floor_busy=$(m 16) floor_max=$(m 17)
of_runs="median of $RUNS runs"

row "logins/s (50 concurrent; argon2id t=3 m=64MiB vs scrypt N=2^16 r=4; $of_runs)" "$reel_logins" \
  "$node_logins (Express peer)" "$(ratio "$reel_logins" "$node_logins")×"
row "/healthz p99 ms, idle (200 req/s probe; $of_runs)" "$reel_idle" "$node_idle (Express peer)" \
  "$(ratio "$node_idle" "$reel_idle")× lower"
row "/healthz p99 ms during the login storm ($of_runs)" "$reel_busy (max $reel_max)" \
  "$node_busy (max $node_max) (Express peer)" "$(ratio "$node_busy" "$reel_busy")× lower"
row "the floor: the same probe asking nginx for a static file, p99 ms idle and during a login storm on reel ($of_runs)" \
  "—" "$floor_idle idle, $floor_busy (max $floor_max) in the storm (nginx)" "—"
row "registrations/s (50 concurrent, each a new account; $of_runs)" "$reel_regs" "$node_regs (Express peer)" \
  "$(ratio "$reel_regs" "$node_regs")×"
row "/healthz p99 ms during the registration storm ($of_runs)" "$reel_reg_busy (max $reel_reg_max)" \
  "$node_reg_busy (max $node_reg_max) (Express peer)" "$(ratio "$node_reg_busy" "$reel_reg_busy")× lower"
plot ratios "logins/s vs Express" "$(ratio "$reel_logins" "$node_logins")" -
plot latency "idle" "$reel_idle" "$node_idle"
plot latency "during the login storm" "$reel_busy" "$node_busy"
goal "/healthz p99 < 2 ms during the login storm (Express peer: $node_idle ms idle → $node_busy ms; nginx's static file in the same storm: $floor_busy ms)" \
  "$reel_busy ms" below "$reel_busy" 2
goal "/healthz max < 5 ms during the login storm (Express peer: max $node_max ms; nginx's static file in the same storm: max $floor_max ms)" \
  "$reel_max ms" below "$reel_max" 5
# 0.72: reel's logins/s over the peer's before issue 23 (bench/results of 2026-11-26).
goal "logins/s not below 0.72× the Express peer's (argon2id t=3 m=64MiB vs scrypt)" \
  "$(ratio "$reel_logins" "$node_logins")×" at_least "$(ratio "$reel_logins" "$node_logins")" 0.72
goal "/healthz p99 < 5 ms during 50 parallel registrations (Express peer: $node_reg_busy ms)" \
  "$reel_reg_busy ms" below "$reel_reg_busy" 5
