# seghub: `make run` serves the web UI and API; `make test` builds and runs every test.
BUILD ?= build
PORT ?= 8080
HOST ?= 127.0.0.1
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap configure build run test test-fast bench bench-ui bench-scaleout format format-check clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: bootstrap $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/seghub serve --host $(HOST) --port $(PORT)

# Fast tier (unit tests) first, then the slow tier (integration, real servers).
test: build format-check
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -j 2

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -L fast -j 2

bench: build bench-ui bench-scaleout
	$(BUILD)/seghub bench
	$(BUILD)/seghub bench-segment --seconds 5

# Distributed queue throughput with 1, 2 and 3 workers (real PostgreSQL and Redis).
bench-scaleout: build
	$(BUILD)/tests/integration/scaleout/scaleout_bench

# Web editor pan/zoom frame times (headless chromium; see docs/performance.md).
bench-ui: build
	SEGHUB_BINARY=$(BUILD)/seghub node tests/e2e/bench_editor.mjs

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@files=$$(git ls-files '*.cc' '*.h'); \
	if [ -n "$$files" ] && ! clang-format --dry-run --Werror $$files; then \
	  echo "clang-format: run 'make format'"; exit 1; fi

clean:
	rm -rf $(BUILD)
