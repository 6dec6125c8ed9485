# Shared helpers of the benchmark scripts (sourced).
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {  # url
  for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "bench: $1 did not come up" >&2; return 1
}

# start_reel PORT DATA_DIR [extra env...]: starts reel in the background.
start_reel() {
  local port=$1 dir=$2; shift 2
  env "$@" "$REEL" serve --host 127.0.0.1 --port "$port" --data-dir "$dir" 2>"$dir.log" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}

# register_user PORT: registers the bench user and prints its token.
register_user() {
  curl -fs -X POST "http://127.0.0.1:$1/api/auth/register" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench","organizationName":"Bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# upload_raw PORT TOKEN FILE: uploads FILE as a raw body and prints the video id.
upload_raw() {
  curl -fs -H "Authorization: Bearer $2" -H 'Content-Type: video/mp4' -H 'Expect:' --data-binary @"$3" \
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

# wrk_run URL CONNECTIONS SECONDS [wrk args...]: prints "rps p99_ms"
wrk_run() {
  local url=$1 c=$2 d=$3; shift 3
  local out
  out=$(wrk -t1 -c"$c" -d"${d}s" --latency "$@" "$url")
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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

machine() { echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"; }
