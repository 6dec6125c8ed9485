#!/usr/bin/env bash
# Scenario: upload ingest of a 256 MiB file (raw body over loopback, fsynced
# before the answer) against dd writing the same bytes with fsync.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SIZE_MB=256
tmp=$(mktemp -d)
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$tmp/file.bin"
rp=$(free_port); start_reel "$rp" "$tmp/reel"
token=$(register_user "$rp")
t0=$(date +%s.%N)
curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: video/mp4' -H 'Expect:' \
  --data-binary @"$tmp/file.bin" "http://127.0.0.1:$rp/api/videos?title=ingest"
t1=$(date +%s.%N)
dd if="$tmp/file.bin" of="$tmp/dd.out" bs=1M conv=fsync status=none
t2=$(date +%s.%N)
reel_mbs=$(awk -v s=$SIZE_MB -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", s/(b-a)}')
dd_mbs=$(awk -v s=$SIZE_MB -v a="$t1" -v b="$t2" 'BEGIN{printf "%.0f", s/(b-a)}')
echo "| upload ingest MiB/s (256 MiB raw body, fsynced) | $reel_mbs | $dd_mbs (dd conv=fsync) | $(ratio "$reel_mbs" "$dd_mbs")× |"
rm -rf "$tmp"
