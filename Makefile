# reel: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
PORT ?= 8080
JOBS ?= $(shell nproc)

.PHONY: all deps build build-asan run test bench format clean cluster cluster-down chaos fuzz

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja: CMakeLists.txt tests/CMakeLists.txt
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet -j $(JOBS)

# -g1: line tables, all ASan's reports need, in a fraction of the full debug
# information's compile and link time. -no-pie: a position-independent ASan
# binary spends over a second of every start relocating its 7 million
# pointers (measured: an empty run of the unit tests 1.9 s, 0.75 s without),
# and make test starts one for every test. No integration tests: they drive
# the server over HTTP, and make test runs the release build's against this
# build's server (scripts/run-tests), which saves building them twice.
$(ASAN_BUILD)/build.ninja: CMakeLists.txt tests/CMakeLists.txt Makefile
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DREEL_INTEGRATION_TESTS=OFF \
	  -DCMAKE_EXE_LINKER_FLAGS=-no-pie \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" >/dev/null

build-asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) --quiet -j $(JOBS)

# Serve on :8080 with the embedded defaults (data in ./data).
run: build
	@$(BUILD)/reel serve --port $(PORT)

# reel as a cluster on this machine (scripts/cluster): PostgreSQL, Redis, two
# API nodes, two workers and HAProxy (deploy/haproxy.cfg) on :$(PORT); data
# and logs in ./cluster (REEL_CLUSTER_DIR). Stop it with `make cluster-down`.
cluster: build
	@REEL_CLUSTER_PORT=$${REEL_CLUSTER_PORT:-$(PORT)} REEL_BINARY=$${REEL_BINARY:-$(BUILD)/reel} scripts/cluster up
	@echo "stop it with: make cluster-down"

cluster-down:
	@scripts/cluster down

# Every test: unit and integration (ctest) and the end-to-end suites with
# real clients on the release build, on SQLite and PostgreSQL; the same under
# AddressSanitizer/UBSan; the cluster and chaos suites. scripts/run-tests runs
# several tests at once and prints how long each stage took.
test: build build-asan
	@scripts/run-tests $(BUILD) $(ASAN_BUILD)

# The chaos suites (tests/chaos, scripts/run-chaos): TRIALS random kill -9
# trials of serve and worker under uploads and processing (CHAOS_SEED=N
# replays a run), then a full disk and descriptors running out; on SQLite
# and on a throwaway PostgreSQL (CHAOS_BACKENDS="sqlite" for one). `make test`
# runs a few; `make chaos TRIALS=50` is the long run.
TRIALS ?= 5
chaos: build
	@scripts/run-chaos $(BUILD) $(TRIALS)

# The parsers under libFuzzer with ASan and UBSan (fuzz/, clang 16, its own
# build directory): each target runs FUZZ_SECONDS from its corpus; prints
# exec/s and coverage per target. FUZZ_TARGETS=a b picks some; FUZZ_JOBS=2
# runs two at once; FUZZ_MERGE=1 adds what covers more to fuzz/corpus.
# `make test` replays the corpus and crash reproducers without fuzzing.
fuzz:
	@scripts/deps --fuzz
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-16 \
	  -DREEL_FUZZ=ON -DREEL_WERROR=OFF >/dev/null
	@ninja -C $(FUZZ_BUILD) --quiet -j $(JOBS) fuzz_targets
	@scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: build
	@bench/run

format:
	@clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
