#!/usr/bin/env bash
# Scenario: range streaming of one processed video (about 30 MiB), reel
# beside nginx serving the very same file (sendfile on both) and the Express
# peer (fs.createReadStream), the same random 1 MiB ranges; then each one's
# memory while 100 slow clients read it at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-8}
# A real clip (so that it gets processed), at a constant 12 Mbit/s: ~30 MiB.
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25:duration=20 -c:v libx264 -preset ultrafast \
  -pix_fmt yuv420p -b:v 12M -minrate 12M -maxrate 12M -bufsize 12M -x264-params nal-hrd=cbr -f mp4 "$TMP/clip.mp4"

rp=$(free_port); start_reel "$rp" "$TMP/reel"; reel_pid=$STARTED_PID
token=$(register_user "$rp")
vid=$(upload_raw "$rp" "$token" "$TMP/clip.mp4")
status=$(wait_processed "$rp" "$token" "$vid")
[[ $status == ready ]] || { echo "bench: the clip was not processed ($status)" >&2; exit 1; }
file=$(find "$TMP/reel/orgs" -name video.mp4)
SIZE=$(stat -c %s "$file")

# nginx serves the very file reel made.
start_nginx "$TMP/nginx" "sendfile on; tcp_nopush on; types { video/mp4 bin; }"
np=$NGINX_PORT
ln -s "$file" "$TMP/nginx/www/file.bin"
wait_http "http://127.0.0.1:$np/file.bin"
nginx_pid=$NGINX_WORKER

# The Express peer serves it too. It has no processing of its own: the clip
# is uploaded through its API, then the bench does what processing would,
# the same file as video.mp4 and the row marked ready.
ep=$(free_port); start_node_peer "$ep" "$TMP/express"; node_pid=$STARTED_PID
node_token=$(register_user "$ep")
node_vid=$(upload_raw "$ep" "$node_token" "$TMP/clip.mp4")
ln -s "$file" "$(dirname "$(find "$TMP/express/orgs" -path "*/$node_vid/original")")/video.mp4"
sqlite3 "$TMP/express/peer.db" "UPDATE videos SET status = 'ready', ready_at = updated_at WHERE id = '$node_vid'"

# throughput BASE_URL PATH TOKEN SECONDS -> MiB/s; fails on any error or non-2xx answer.
throughput() {
  local out
  out=$(BENCH_PATH=$2 BENCH_SIZE=$SIZE BENCH_TOKEN=$3 wrk -t1 -c16 -d"$4s" -s "$BENCH_DIR/ranges.lua" "$1")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "bench: errors from $1: $(grep -E "Non-2xx|Socket errors" <<<"$out")" >&2; return 1
  fi
  awk '/Transfer\/sec/ { v=$2; if (v ~ /GB$/) x=v*1024; else if (v ~ /MB$/) x=v+0; else if (v ~ /KB$/) x=v/1024; printf "%.0f", x }' <<<"$out"
}
reel=("http://127.0.0.1:$rp" "/api/stream/$vid/video" "$token")
nginx=("http://127.0.0.1:$np" "/file.bin" "")
node=("http://127.0.0.1:$ep" "/api/stream/$node_vid/video" "$node_token")
throughput "${reel[@]}" 2 >/dev/null  # warm-ups
throughput "${nginx[@]}" 2 >/dev/null
throughput "${node[@]}" 2 >/dev/null
reel_mbs=$(throughput "${reel[@]}" "$DUR")
nginx_mbs=$(throughput "${nginx[@]}" "$DUR")
node_mbs=$(throughput "${node[@]}" "$DUR")
row "range streaming MiB/s (random 1 MiB ranges, 16 conns)" "$reel_mbs" "$nginx_mbs (nginx)" "$(ratio "$reel_mbs" "$nginx_mbs")×"
row "range streaming MiB/s (random 1 MiB ranges, 16 conns)" "$reel_mbs" "$node_mbs (Express peer)" "$(ratio "$reel_mbs" "$node_mbs")×"
plot ratios "range streaming vs nginx" "$(ratio "$reel_mbs" "$nginx_mbs")" 0.9
plot ratios "range streaming vs Express" "$(ratio "$reel_mbs" "$node_mbs")" -
goal "reel ≥ 0.9× nginx on range streaming" "$(ratio "$reel_mbs" "$nginx_mbs")×" at_least "$(ratio "$reel_mbs" "$nginx_mbs")" 0.9

# readers URL PATH TOKEN PID: the server's RSS growth (KiB) while 100 slow
# clients read the whole file at 200 KB/s each.
readers() {
  local before peak now pids=()
  before=$(rss_kib "$4"); peak=$before
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --limit-rate 200k -H "Authorization: Bearer $3" "$1$2" & pids+=($!)
  done
  for _ in $(seq 1 $((DUR * 2))); do
    sleep 0.5
    now=$(rss_kib "$4"); ((now > peak)) && peak=$now
  done
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo $((peak - before))
}
reel_kib=$(readers "${reel[@]}" "$reel_pid")
nginx_kib=$(readers "${nginx[@]}" "$nginx_pid")
node_kib=$(readers "${node[@]}" "$node_pid")
row "RSS growth with 100 slow readers, KiB" "$reel_kib" "$nginx_kib (nginx worker) / $node_kib (Express peer)" \
  "$(ratio "$reel_kib" "$nginx_kib")× / $(ratio "$reel_kib" "$node_kib")×"
per_reader() { awk -v k="$1" 'BEGIN{printf "%.1f", k/100}'; }
plot memory "streaming reader (100 at 200 KB/s)" "$(per_reader "$reel_kib")" "$(per_reader "$node_kib")" "$(per_reader "$nginx_kib")"
