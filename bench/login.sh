#!/usr/bin/env bash
# Scenario: a login storm (50 concurrent logins: reel hashes with argon2id on
# its thread pool, the Express peer with scrypt on libuv's pool) and, at the
# same time, /healthz latency from a paced probe: the loop must stay
# responsive (reel's target: p99 < 5 ms). /healthz p99 on the idle server
# first, as the baseline. reel, then the Express peer, alone on the machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}

# storm PORT NAME: prints "logins/s idle_p99 busy_p99 busy_max"
storm() {
  local url=http://127.0.0.1:$1
  register_user "$1" >/dev/null
  latency_probe "$url/healthz" 1 >/dev/null  # warm-up (JIT on the Node side)
  read -r _ idle_p99 _ _ < <(latency_probe "$url/healthz" 3)
  wrk -t1 -c50 -d"${DUR}s" --timeout 30s -s "$BENCH_DIR/login.lua" "$url/api/auth/login" >"$TMP/storm-$2.txt" &
  local wrk_pid=$!
  sleep 1
  read -r _ busy_p99 busy_max _ < <(latency_probe "$url/healthz" $((DUR - 2)))
  wait $wrk_pid
  if grep -qE 'Non-2xx|Socket errors' "$TMP/storm-$2.txt"; then
    echo "bench: failed logins on $2: $(grep -E 'Non-2xx|Socket errors' "$TMP/storm-$2.txt")" >&2; return 1
  fi
  echo "$(awk '/Requests\/sec:/ {print $2}' "$TMP/storm-$2.txt") $idle_p99 $busy_p99 $busy_max"
}

rp=$(free_port); start_reel "$rp" "$TMP/reel"; reel_pid=$STARTED_PID
read -r reel_logins reel_idle reel_busy reel_max < <(storm "$rp" reel)
kill "$reel_pid"
ep=$(free_port); start_node_peer "$ep" "$TMP/express"
read -r node_logins node_idle node_busy node_max < <(storm "$ep" express)

row "logins/s (50 concurrent; argon2id t=3 m=64MiB vs scrypt N=2^16 r=4)" "$reel_logins" "$node_logins (Express peer)" \
  "$(ratio "$reel_logins" "$node_logins")×"
row "/healthz p99 ms, idle (200 req/s probe)" "$reel_idle" "$node_idle (Express peer)" "$(ratio "$node_idle" "$reel_idle")× lower"
row "/healthz p99 ms during the login storm" "$reel_busy (max $reel_max)" "$node_busy (max $node_max) (Express peer)" \
  "$(ratio "$node_busy" "$reel_busy")× lower"
plot ratios "logins/s vs Express" "$(ratio "$reel_logins" "$node_logins")" -
plot latency "idle" "$reel_idle" "$node_idle"
plot latency "during the login storm" "$reel_busy" "$node_busy"
goal "/healthz p99 < 5 ms during the login storm (Express peer: $node_idle ms idle → $node_busy ms)" \
  "$reel_busy ms" below "$reel_busy" 5
