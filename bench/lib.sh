# Shared helpers of the benchmark scripts (sourced).
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
# Scratch space of this script (data dirs, logs, generated media), removed on exit.
TMP=$(mktemp -d -t reel-bench.XXXXXX)
# The load average when the scenario starts: the machine is shared and noisy.
LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
PIDS=()
PG_DIRS=()
cleanup() {  # errexit holds in traps: a process that already ended must not stop the cleanup
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${PG_DIRS[@]}"; do "$ROOT/scripts/postgres" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$TMP"
}

# start_postgres: a throwaway PostgreSQL 15 (scripts/postgres), stopped on
# exit; sets PG_DIR (its directory) and PG_URL (its database `reel`).
start_postgres() {
  PG_DIR=$("$ROOT/scripts/postgres" start --watch $$)
  PG_DIRS+=("$PG_DIR")
  PG_URL=$("$ROOT/scripts/postgres" url "$PG_DIR")
}
trap cleanup EXIT

free_port() { "$BENCH_DIR/../scripts/free-port"; }

wait_http() {  # url
  for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "bench: $1 did not come up" >&2; return 1
}

# start_reel PORT DATA_DIR [extra env...]: starts reel in the background;
# STARTED_PID is its process id (env execs reel). Every load comes from
# 127.0.0.1 here, so the per-address connection limit is off.
start_reel() {
  local port=$1 dir=$2; shift 2
  env REEL_MAX_CONNECTIONS_PER_ADDRESS=0 REEL_REGISTRATIONS_PER_ADDRESS_HOUR=0 REEL_REGISTRATIONS_PER_HOUR=0 "$@" "$REEL" serve --host 127.0.0.1 --port "$port" --data-dir "$dir" 2>"$dir.log" &
  STARTED_PID=$!; PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}

# start_node_peer PORT DATA_DIR: starts the Express peer (peers/node/app.mjs)
# in the background; STARTED_PID is its process id.
start_node_peer() {
  node "$BENCH_DIR/peers/node/app.mjs" "$1" "$2" >"$2.log" 2>&1 &
  STARTED_PID=$!; PIDS+=($!)
  wait_http "http://127.0.0.1:$1/healthz"
}

# start_nginx DIR [HTTP_CONF]: nginx (one worker) serving DIR/www on a free
# port, with HTTP_CONF added to its http block; sets NGINX_PORT and
# NGINX_WORKER (the worker's process id); stopped on exit.
start_nginx() {
  local dir=$1 master
  NGINX_PORT=$(free_port)
  mkdir -p "$dir/www"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
$( [[ $(id -u) -eq 0 ]] && echo "user root;" )
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log $dir/access.log;
  keepalive_requests 100000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  ${2:-}
  server { listen 127.0.0.1:$NGINX_PORT; root $dir/www; }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" & PIDS+=($!)
  master=$!
  for _ in $(seq 1 200); do [[ -e $dir/nginx.pid ]] && NGINX_WORKER=$(pgrep -P "$master") && break; sleep 0.05; done
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# register_user PORT [NAME]: registers NAME@example.com (default "bench") with an
# organization of its own and prints its token.
register_user() {
  local name=${2:-bench}
  curl -fs -X POST "http://127.0.0.1:$1/api/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$name@example.com\",\"password\":\"correct horse battery\",\"name\":\"$name\",\"organizationName\":\"$name\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# upload_raw PORT TOKEN FILE: uploads FILE as a raw body and prints the video id.
# The file is streamed (-T), as an uploader does: `--data-binary @FILE` reads
# the whole file into memory first, which took curl 1.7 s of a 256 MiB
# upload's 2.4 s here.
upload_raw() {
  curl -fs -X POST -T "$3" -H "Authorization: Bearer $2" -H 'Content-Type: video/mp4' -H 'Expect:' \
    "http://127.0.0.1:$1/api/videos?title=bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["video"]["id"])'
}

# wait_processed PORT TOKEN ID: waits (up to 2 min) until the video is ready or failed; prints the status.
wait_processed() {
  local status=""
  for _ in $(seq 1 1200); do
    status=$(curl -fs -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/videos/$3" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["video"]["status"])')
    [[ $status == ready || $status == failed ]] && break
    sleep 0.1
  done
  echo "$status"
}

# wrk_run URL CONNECTIONS SECONDS [wrk args...]: prints "rps p99_ms"; fails on
# socket errors or non-2xx answers, which would make the figures meaningless.
wrk_run() {
  local url=$1 c=$2 d=$3; shift 3
  local out
  out=$(wrk -t1 -c"$c" -d"${d}s" --latency "$@" "$url")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "bench: errors from $url: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2; return 1
  fi
  local rps p99
  rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$rps $(to_ms "$p99")"
}

to_ms() {  # wrk latency like 1.23ms / 456.00us / 1.02s → ms
  local v=$1
  case $v in
    *us) awk -v x="${v%us}" 'BEGIN{printf "%.3f", x/1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN{printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN{printf "%.3f", x*1000}' ;;
    *) echo "nan" ;;
  esac
}

# latency_probe URL SECONDS [RATE]: paced GETs; prints "p50_ms p99_ms max_ms count".
latency_probe() { python3 "$BENCH_DIR/latency_probe.py" "$1" "${3:-200}" "$2"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

machine() { echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"; }

# Output of a scenario: table rows go to stdout; goals and chart points go to
# files in the directory BENCH_OUT when bench/run collects them, else to stderr.
emit() {  # FILE LINE
  if [[ -n ${BENCH_OUT:-} ]]; then echo "$2" >>"$BENCH_OUT/$1"; else echo "$2" >&2; fi
}

# row SCENARIO REEL PEER RATIO: one row of the results table.
row() { echo "| $1 | $2 | $3 | $4 | $(nproc) cores, load $LOAD_AT_START |"; }

# goal TEXT MEASURED CHECK...: one row of the goals table; the goal is met
# when the command CHECK... succeeds.
goal() {
  local text=$1 measured=$2 verdict="not met"; shift 2
  if "$@"; then verdict=met; fi
  emit goals.md "| $text | $measured | $verdict |"
}
at_least() { awk -v a="$1" -v b="$2" 'BEGIN{ exit !(a >= b) }'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN{ exit !(a < b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN{ exit !(a <= b) }'; }

# plot CHART LABEL VALUE...: one point of a chart; charts.gp says what each
# chart's values are. "-" is a value not measured (NaN to gnuplot).
plot() {
  local chart=$1 label=$2 v values=(); shift 2
  for v; do if [[ $v == - ]]; then values+=(NaN); else values+=("$v"); fi; done
  emit plot.txt "$chart \"$label\" ${values[*]}"
}

# Each row is the median of RUNS measurements (BENCH_RUNS, 3 by default): the
# machine is shared and noisy, and one run can be an outlier either way.
RUNS=${BENCH_RUNS:-3}
# median VALUE...: the median of the numbers (the mean of the two middle ones
# for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
    if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# column N LINE...: field N of each line (for median over several runs' "a b c" lines).
column() { local n=$1; shift; printf '%s\n' "$@" | awk -v n="$n" '{print $n}'; }
