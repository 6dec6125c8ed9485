#!/usr/bin/env bash
# Scenario: job-queue claim throughput, 8 workers in 4 processes claiming and
# finishing 500 jobs (each exactly once), on PostgreSQL (FOR UPDATE SKIP
# LOCKED) and on SQLite (serialized write transactions), side by side. The
# workload is the unit test that proves the claims exact
# (tests/unit/db/postgres_jobs_test.cpp); this reads the figure it prints.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
TESTS=${REEL_UNIT_TESTS:-$ROOT/build/tests/reel_unit_tests}
[[ -x $TESTS ]] || { echo "bench: $TESTS is missing (make build)" >&2; exit 1; }
start_postgres
rate() {  # gtest filter → jobs/s
  REEL_TEST_POSTGRES_DIR=$PG_DIR "$TESTS" --gtest_filter="$1" 2>&1 |
    sed -nE 's/.*\(([0-9]+) jobs\/s\).*/\1/p' | tail -1
}
pg=$(rate 'postgres_jobs_test.eight_workers_in_four_processes*')
lite=$(rate 'sqlite_jobs.eight_workers_in_four_processes*')
[[ -n $pg && -n $lite ]] || { echo "bench: the claim runs printed no figure" >&2; exit 1; }
row "job claims/s, 8 workers in 4 processes, 500 jobs (claim + finish)" "$pg (PostgreSQL)" "$lite (SQLite)" \
  "$(ratio "$pg" "$lite")×"
