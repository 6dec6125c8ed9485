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
ingest() {  # PORT -> MiB/s
  local token t0 t1
  token=$(register_user "$1")
  t0=$(date +%s.%N)
  upload_raw "$1" "$token" "$TMP/file.bin" >/dev/null
  t1=$(date +%s.%N)
  mibs "$t0" "$t1"
}
reel_mbs=$(ingest "$rp")
node_mbs=$(ingest "$ep")
t0=$(date +%s.%N)
dd if="$TMP/file.bin" of="$TMP/dd.out" bs=1M conv=fsync status=none
dd_mbs=$(mibs "$t0" "$(date +%s.%N)")
row "upload ingest MiB/s (256 MiB raw body, fsynced)" "$reel_mbs" "$node_mbs (Express peer)" "$(ratio "$reel_mbs" "$node_mbs")×"
row "upload ingest MiB/s (256 MiB raw body, fsynced)" "$reel_mbs" "$dd_mbs (dd conv=fsync)" "$(ratio "$reel_mbs" "$dd_mbs")×"
plot ratios "upload ingest vs Express" "$(ratio "$reel_mbs" "$node_mbs")" -
plot ratios "upload ingest vs dd" "$(ratio "$reel_mbs" "$dd_mbs")" -
