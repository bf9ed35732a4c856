# The two commands a newcomer needs: `make demo` and `make test`.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
DEMO_DATA  ?= ./demo-data
LISTEN     ?= 127.0.0.1:8080

.PHONY: deps configure build build-asan test test-asan demo bench clean npm

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

test: build npm
	@scripts/with-postgres.sh ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan npm
	@ASAN_OPTIONS=detect_leaks=1 scripts/with-postgres.sh ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

# Builds only the binary it serves, not the tests, benchmarks and fuzzers.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target rapport
	@$(BUILD)/rapport demo --data $(DEMO_DATA) --listen $(LISTEN)

bench: build
	@cd bench/duckdb && npm ci --no-audit --no-fund >/dev/null
	@for b in $(BUILD)/bench/*_bench; do echo "== $$b"; $$b; done

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
