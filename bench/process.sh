#!/usr/bin/env bash
# Scenario: processing a 30 s 720p clip (H.264/AAC: MP4 remux + 4-rung HLS
# ladder + probe + poster) through reel, against one hand-written ffmpeg
# command making the same MP4 and HLS ladder; and the loop's responsiveness
# (/healthz p99, event-loop lag) while it runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=30 -f lavfi -i sine=frequency=440:duration=30 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$TMP/clip.mp4"

# The hand-written command: one decode, split into the ladder, MP4 by stream copy.
mkdir -p "$TMP/hand/hls"
t0=$(date +%s.%N)
ffmpeg -v error -y -i "$TMP/clip.mp4" \
  -filter_complex "[0:v:0]split=4[a][b][c][d];[a]scale=426:240[v0];[b]scale=640:360[v1];[c]scale=854:480[v2];[d]scale=1280:720[v3]" \
  -map 0:v:0 -map 0:a:0 -c copy -movflags +faststart "$TMP/hand/video.mp4" \
  -map "[v0]" -map 0:a:0 -map "[v1]" -map 0:a:0 -map "[v2]" -map 0:a:0 -map "[v3]" -map 0:a:0 \
  -c:v libx264 -preset veryfast -profile:v main -sc_threshold 0 -force_key_frames "expr:gte(t,n_forced*4)" \
  -b:v:0 400k -b:v:1 800k -b:v:2 1400k -b:v:3 2800k -c:a aac -b:a 128k -ac 2 \
  -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_filename "$TMP/hand/hls/%v/seg_%03d.ts" \
  -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2 v:3,a:3" "$TMP/hand/hls/%v/index.m3u8"
t1=$(date +%s.%N)
hand=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')

rp=$(free_port); start_reel "$rp" "$TMP/reel" REEL_METRICS_TOKEN=bench-metrics-token-0123
token=$(register_user "$rp")
t0=$(date +%s.%N)
vid=$(upload_raw "$rp" "$token" "$TMP/clip.mp4")
python3 "$BENCH_DIR/latency_probe.py" "http://127.0.0.1:$rp/healthz" 100 1000 >"$TMP/probe.txt" & probe=$!
status=$(wait_processed "$rp" "$token" "$vid")
t1=$(date +%s.%N)
kill -INT $probe 2>/dev/null; wait $probe 2>/dev/null || true
reel_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
lag_max=$(curl -fs -H "Authorization: Bearer bench-metrics-token-0123" "http://127.0.0.1:$rp/metrics" | awk '/^reel_event_loop_lag_max_seconds/ {printf "%.1f", $2*1000}')
row "processing a 30 s 720p clip, wall s (upload→$status)" "$reel_s" "$hand (one hand-written ffmpeg)" "$(ratio "$reel_s" "$hand")× the time"
plot ratios "processing speed vs bare ffmpeg" "$(ratio "$hand" "$reel_s")" -
if [[ -s $TMP/probe.txt ]]; then
  read -r _ p99 mx _ <"$TMP/probe.txt"
  row "/healthz p99 ms while processing (100 req/s probe)" "$p99 (max $mx)" — —
fi
row "event-loop lag max ms while processing" "$lag_max" — —
