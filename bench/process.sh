#!/usr/bin/env bash
# Scenario: processing a 30 s 720p clip (H.264/AAC) through reel, upload to
# ready, against one hand-written ffmpeg command making the same outputs: the
# MP4 by stream copy with faststart, the 4-rung HLS ladder with reel's
# encoder settings, the poster (a frame at 3 s) and the storyboard's sprite
# sheet (a 160x90 tile every 2 s). reel also probes the source and checks
# the outputs' durations: that is part of its cost. Each side runs RUNS
# times, alternating; the rows are medians. Then the time from the end of
# the upload to the first playable answer (the HLS master and its first
# segment answering 200), and the loop's responsiveness (/healthz p99,
# event-loop lag) while processing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=30 -f lavfi -i sine=frequency=440:duration=30 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$TMP/clip.mp4"

# The hand-written command: one decode, split into the ladder, the poster and the storyboard.
hand_run() {
  local out=$TMP/hand t0 t1 ladder="" maps="" rates="" i
  rm -rf "$out"; mkdir -p "$out/hls" "$out/storyboard"
  local sizes=(426:240 640:360 854:480 1280:720) kbps=(400 800 1400 2800)
  for i in 0 1 2 3; do
    ladder+="[s$i]scale=${sizes[$i]},format=yuv420p[v$i];"
    maps+="-map [v$i] -map 0:a:0 "
    rates+="-b:v:$i ${kbps[$i]}k -maxrate:v:$i $((kbps[i] * 3 / 2))k -bufsize:v:$i $((kbps[i] * 2))k "
  done
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # maps and rates are lists of words
  ffmpeg -v error -y -i "$TMP/clip.mp4" \
    -filter_complex "[0:v:0]split=6[s0][s1][s2][s3][sp][st];${ladder}[sp]select='gte(t,3)',scale='min(1280,iw)':-2[vp];[st]fps=1/2,scale=160:90,tile=10x2[vt]" \
    -map 0:v:0 -map 0:a:0 -c copy -movflags +faststart "$out/video.mp4" \
    $maps -c:v libx264 -preset veryfast -profile:v main -level:v 4.2 -sc_threshold 0 \
    -force_key_frames "expr:gte(t,n_forced*4)" $rates -c:a aac -b:a 128k -ac 2 \
    -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments \
    -hls_segment_filename "$out/hls/%v/seg_%03d.ts" \
    -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2 v:3,a:3" "$out/hls/%v/index.m3u8" \
    -map "[vp]" -frames:v 1 -q:v 3 "$out/poster.jpg" \
    -map "[vt]" -q:v 2 "$out/storyboard/sprite-%03d.jpg"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}

# reel_run PORT TOKEN: prints "seconds_to_ready seconds_to_playable status" for one upload.
reel_run() {
  python3 "$BENCH_DIR/process_probe.py" "http://127.0.0.1:$1" "$2" "$TMP/clip.mp4"
}

rp=$(free_port); start_reel "$rp" "$TMP/reel" REEL_METRICS_TOKEN=bench-metrics-token-0123
token=$(register_user "$rp")
python3 "$BENCH_DIR/latency_probe.py" "http://127.0.0.1:$rp/healthz" 100 100000 >"$TMP/probe.txt" & probe=$!
hands=() reels=() playables=()
for _ in $(seq 1 "$RUNS"); do
  hands+=("$(hand_run)")
  read -r ready_s playable_s status < <(reel_run "$rp" "$token")
  [[ $status == ready ]] || { echo "bench: the clip ended $status in reel" >&2; exit 1; }
  reels+=("$ready_s"); playables+=("$playable_s")
done
kill -INT $probe 2>/dev/null; wait $probe 2>/dev/null || true
hand=$(median "${hands[@]}"); reel_s=$(median "${reels[@]}"); playable=$(median "${playables[@]}")
lag_max=$(curl -fs -H "Authorization: Bearer bench-metrics-token-0123" "http://127.0.0.1:$rp/metrics" | awk '/^reel_event_loop_lag_max_seconds/ {printf "%.1f", $2*1000}')
stages=$(grep "video ready" "$TMP/reel.log" | tail -1 | grep -o ' ms=[^ ]*' | cut -d= -f2)
r=$(ratio "$reel_s" "$hand")
row "processing a 30 s 720p clip, wall s (upload→ready; median of $RUNS; reel's stages in ms: $stages)" \
  "$reel_s" "$hand (one hand-written ffmpeg, same outputs)" "$r× the time"
row "first playable answer after the upload, s (HLS master + first segment 200; median of $RUNS)" "$playable" \
  "$reel_s (upload→ready: the whole ladder)" "$(ratio "$reel_s" "$playable")× sooner"
plot ratios "processing speed vs bare ffmpeg" "$(ratio "$hand" "$reel_s")" -
if [[ -s $TMP/probe.txt ]]; then
  read -r _ p99 mx _ <"$TMP/probe.txt"
  row "/healthz p99 ms while processing (100 req/s probe)" "$p99 (max $mx)" — —
fi
row "event-loop lag max ms while processing" "$lag_max" — —
goal "processing upload→ready ≤ 1.05× one hand-written ffmpeg making the same outputs" "$r×" at_most "$r" 1.05
goal "first playable answer ≤ 2 s after the upload ends (H.264/AAC source)" "$playable s" at_most "$playable" 2
