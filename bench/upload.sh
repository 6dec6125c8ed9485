#!/usr/bin/env bash
# Scenario: upload ingest of a 256 MiB file (raw body over loopback, on disk
# and fsynced before the answer) into reel and into the Express peer, against
# dd writing the same bytes with fsync.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SIZE_MB=256
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$TMP/file.bin"
rp=$(free_port); start_reel "$rp" "$TMP/reel"
ep=$(free_port); start_node_peer "$ep" "$TMP/express"

mibs() {  # START END -> MiB/s
  awk -v s=$SIZE_MB -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", s/(b-a)}'
}
ingest() {  # PORT TOKEN -> MiB/s
  local t0 t1
  t0=$(date +%s.%N)
  upload_raw "$1" "$2" "$TMP/file.bin" >/dev/null
  t1=$(date +%s.%N)
  mibs "$t0" "$t1"
}
# dd writes a new file each run and keeps it, as every upload is a new file
# that stays. On this VM, page cache taken from memory never used before
# costs much more to fill than pages freed a moment ago (dd into new kept
# files: 0.30, 0.28, 0.60, 0.75 s; over one file again: 0.38-0.40 s), so
# overwriting one file would give dd pages the servers do not get.
dd_ingest() {  # RUN -> MiB/s
  local t0
  t0=$(date +%s.%N)
  dd if="$TMP/file.bin" of="$TMP/dd.$1.out" bs=1M conv=fsync status=none
  mibs "$t0" "$(date +%s.%N)"
}
reel_token=$(register_user "$rp")
node_token=$(register_user "$ep")
# Each figure is the median of RUNS runs; reel, the peer and dd alternate.
reel_runs=() node_runs=() dd_runs=()
for ((i = 1; i <= RUNS; i++)); do
  reel_runs+=("$(ingest "$rp" "$reel_token")")
  node_runs+=("$(ingest "$ep" "$node_token")")
  dd_runs+=("$(dd_ingest "$i")")
done
reel_mbs=$(median "${reel_runs[@]}") node_mbs=$(median "${node_runs[@]}") dd_mbs=$(median "${dd_runs[@]}")
what="upload ingest MiB/s (256 MiB raw body, fsynced; median of $RUNS runs)"
row "$what" "$reel_mbs" "$node_mbs (Express peer)" "$(ratio "$reel_mbs" "$node_mbs")×"
row "$what" "$reel_mbs" "$dd_mbs (dd conv=fsync)" "$(ratio "$reel_mbs" "$dd_mbs")×"
plot ratios "upload ingest vs Express" "$(ratio "$reel_mbs" "$node_mbs")" -
plot ratios "upload ingest vs dd" "$(ratio "$reel_mbs" "$dd_mbs")" -
goal "upload ingest ≥ 0.8× dd conv=fsync (256 MiB raw body, acknowledged once durable)" \
  "$(ratio "$reel_mbs" "$dd_mbs")×" at_least "$(ratio "$reel_mbs" "$dd_mbs")" 0.8
