# The two commands a newcomer needs: `make demo` and `make test`.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= $(patsubst fuzz/%_fuzz.cc,%,$(wildcard fuzz/*_fuzz.cc))
JOBS       ?= $(shell nproc)
DEMO_DATA  ?= ./demo-data
LISTEN     ?= 127.0.0.1:8080

.PHONY: deps configure build build-asan test test-asan demo bench clean npm fuzz browser-deps

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRAPPORT_SANITIZE=ON -DRAPPORT_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# The Segment SDK end-to-end test's npm packages, from the committed lock file.
npm:
	@if command -v npm >/dev/null; then cd tests/ingest/segment-sdk && npm ci --no-audit --no-fund --silent; \
	 else echo "npm not found: the Segment SDK test will be skipped"; fi

# The browser tests (tests/web/, label "browser") drive Debian's headless
# Chromium with playwright-core from web/node_modules (the build's npm ci).
browser-deps:
	@[ -x /usr/bin/chromium ] || { echo "installing chromium for the browser tests"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

test: build npm browser-deps
	@scripts/with-postgres.sh ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The browser tests exercise the UI, not the sanitizers: they run in `make test` only.
test-asan: build-asan npm
	@ASAN_OPTIONS=detect_leaks=1 scripts/with-postgres.sh ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS) -LE browser

# Builds only the binary it serves, not the tests, benchmarks and fuzzers.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target rapport
	@$(BUILD)/rapport demo --data $(DEMO_DATA) --listen $(LISTEN)

bench: build browser-deps
	@cd bench/duckdb && npm ci --no-audit --no-fund >/dev/null
	@for b in $(BUILD)/bench/*_bench; do echo "== $$b"; $$b; done
	@echo "== bench/web_bench.mjs"; node bench/web_bench.mjs --rapport $(BUILD)/rapport --source .

# libFuzzer binaries built with clang (ASan+UBSan), each run for
# FUZZ_SECONDS over its committed and generated seeds and its dictionary;
# new inputs go to $(BUILD_FUZZ)/corpus/<target>, crashes to $(BUILD_FUZZ)/.
fuzz: deps
	@command -v clang++ >/dev/null || { apt-get update -q && apt-get install -y -q clang libclang-rt-dev || apt-get install -y -q clang; }
	@cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DRAPPORT_SANITIZE=ON -DRAPPORT_LIBFUZZER=ON -DRAPPORT_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_seeds $(addsuffix _fuzz,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD_FUZZ)/corpus/$$t; \
	  dict=""; [ -f fuzz/dict/$$t.dict ] && dict="-dict=fuzz/dict/$$t.dict"; \
	  seeds=""; [ -d $(BUILD_FUZZ)/fuzz/seeds/$$t ] && seeds="$(BUILD_FUZZ)/fuzz/seeds/$$t"; \
	  echo "== $$t for $(FUZZ_SECONDS) s"; \
	  $(BUILD_FUZZ)/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 -rss_limit_mb=4096 -timeout=10 \
	    -artifact_prefix=$(BUILD_FUZZ)/ -print_final_stats=1 $$dict \
	    $(BUILD_FUZZ)/corpus/$$t fuzz/corpus/$$t $$seeds || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
