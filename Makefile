# The two commands of the README: `make dev` and `make test`. Everything else is a helper.
BUILD_DEV   ?= build/dev
BUILD_TEST  ?= build/test
BUILD_FUZZ  ?= build/fuzz
BUILD_BENCH ?= build/bench
JOBS        ?= $(shell nproc)

.PHONY: deps dev build-dev test build-test fuzz fuzz-smoke bench screenshots clean

deps:
	@bash scripts/install-deps.sh

build-dev: deps
	cmake -S . -B $(BUILD_DEV) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILKEEP_TESTS=OFF
	cmake --build $(BUILD_DEV) -j $(JOBS) --target mailkeep

dev: build-dev
	$(BUILD_DEV)/mailkeep dev $(ARGS)

build-test: deps
	cmake -S . -B $(BUILD_TEST) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAILKEEP_SANITIZE=ON
	cmake --build $(BUILD_TEST) -j $(JOBS)

# Every test: unit and integration under ASan+UBSan, then a short run of each fuzzer.
test: build-test fuzz-smoke
	cd $(BUILD_TEST) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j2 --output-on-failure --timeout 900

# The README's screenshots (docs/screenshots/), from the browser test; `make test` writes its
# own under the build directory, so a test run leaves the tree as it was.
screenshots: build-test
	cd tests/integration && MAILKEEP_BIN=$(CURDIR)/$(BUILD_TEST)/mailkeep MK_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots \
	  /usr/bin/python3 -m unittest test_web_browser test_share_browser

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILKEEP_FUZZ=ON -DMAILKEEP_WERROR=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS)

fuzz-smoke: fuzz
	bash scripts/fuzz-smoke.sh $(BUILD_FUZZ)

bench:
	@bash scripts/install-deps.sh --bench
	cmake -S . -B $(BUILD_BENCH) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILKEEP_TESTS=OFF
	cmake --build $(BUILD_BENCH) -j $(JOBS) --target mailkeep
	bash bench/smtp-inbound/run.sh $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/imap/run.py $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/smtp-outbound/run.py $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/breached/run.py $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/logship/run.py $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/spam/run.py $(BUILD_BENCH)/mailkeep
	/usr/bin/python3 bench/web/run.py $(BUILD_BENCH)/mailkeep

clean:
	rm -rf build
