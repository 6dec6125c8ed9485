#!/usr/bin/env bash
# Scenario: range streaming of one processed video (about 30 MiB), reel
# beside nginx serving the very same file (sendfile on both), the same random
# 1 MiB ranges; then reel's memory while 100 slow clients read it at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}
tmp=$(mktemp -d)
# A real clip (so that it gets processed), at a constant 12 Mbit/s: ~30 MiB.
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25:duration=20 -c:v libx264 -preset ultrafast \
  -pix_fmt yuv420p -b:v 12M -minrate 12M -maxrate 12M -bufsize 12M -x264-params nal-hrd=cbr -f mp4 "$tmp/file.bin"

rp=$(free_port); start_reel "$rp" "$tmp/reel"
token=$(register_user "$rp")
vid=$(upload_raw "$rp" "$token" "$tmp/file.bin")
status=$(wait_processed "$rp" "$token" "$vid")
[[ $status == ready ]] || { echo "bench: the clip was not processed ($status)" >&2; exit 1; }
file=$(find "$tmp/reel/orgs" -name video.mp4)
SIZE=$(stat -c %s "$file")

# nginx serves the very file reel stored.
np=$(free_port)
mkdir -p "$tmp/nginx/www"
ln -s "$file" "$tmp/nginx/www/file.bin"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
$( [[ $(id -u) -eq 0 ]] && echo "user root;" )
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log $tmp/nginx/access.log;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  types { video/mp4 bin; }
  server { listen 127.0.0.1:$np; root $tmp/nginx/www; }
}
CONF
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" & PIDS+=($!)
wait_http "http://127.0.0.1:$np/file.bin"

throughput() {  # url path -> MiB/s; fails when any answer was not 206
  local out
  out=$(BENCH_PATH=$2 BENCH_SIZE=$SIZE BENCH_TOKEN=$token wrk -t1 -c16 -d"${DUR}s" -s "$BENCH_DIR/ranges.lua" "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: errors from $1: $(grep Non-2xx <<<"$out")" >&2; return 1; fi
  awk '/Transfer\/sec/ { v=$2; if (v ~ /GB$/) x=v*1024; else if (v ~ /MB$/) x=v+0; else if (v ~ /KB$/) x=v/1024; printf "%.0f", x }' <<<"$out"
}
throughput "http://127.0.0.1:$rp" "/api/stream/$vid/video" >/dev/null  # warm-up
throughput "http://127.0.0.1:$np" "/file.bin" >/dev/null
reel_mbs=$(throughput "http://127.0.0.1:$rp" "/api/stream/$vid/video")
nginx_mbs=$(throughput "http://127.0.0.1:$np" "/file.bin")
echo "| range streaming MiB/s (random 1 MiB ranges, 16 conns) | $reel_mbs | $nginx_mbs (nginx) | $(ratio "$reel_mbs" "$nginx_mbs")× |"

# Memory while 100 slow readers stream the whole file at 200 KB/s each.
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -r 0-0 \
  "http://127.0.0.1:$rp/api/stream/$vid/video") == 206 ]] || { echo "bench: stream not served" >&2; exit 1; }
reel_pid=$(pgrep -f "reel serve --host 127.0.0.1 --port $rp")
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss "$reel_pid")
readers=()
for _ in $(seq 1 100); do
  curl -s -o /dev/null --limit-rate 200k -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$rp/api/stream/$vid/video" & readers+=($!)
done
peak=0
for _ in $(seq 1 $((DUR * 2))); do
  sleep 0.5
  now=$(rss "$reel_pid"); ((now > peak)) && peak=$now
done
kill "${readers[@]}" 2>/dev/null || true
wait "${readers[@]}" 2>/dev/null || true
echo "| reel RSS with 100 slow readers (KiB) | $peak | $before (idle, before) | +$((peak - before)) KiB |"
rm -rf "$tmp"
