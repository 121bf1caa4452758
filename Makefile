# mamori - the two commands a user needs are `make run` and `make test`.
# Everything else is for developers. The build itself is Meson + Ninja.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_OPTS ?=

.PHONY: all build run test asan bench fuzz fuzz-short bootstrap clean help

all: build

help:
	@echo "make            build (runs scripts/bootstrap first if something is missing)"
	@echo "make run        build and start the suite (mamori up); Ctrl-C stops it"
	@echo "make test       build and run the whole test suite"
	@echo "make asan       the test suite except ct and bench, under AddressSanitizer + UBSan"
	@echo "make bench      benchmarks (bench/), printed as ratios against a peer"
	@echo "make fuzz       libFuzzer on every harness for FUZZ_SECONDS each (clang)"
	@echo "make clean      remove build directories"

bootstrap:
	@scripts/bootstrap --quiet

$(BUILD)/build.ninja: | bootstrap
	meson setup $(BUILD) $(MESON_OPTS)

build: bootstrap $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(BUILD)/src/cli/mamori up $(ARGS)

test: build
	scripts/run-tests $(BUILD) --no-suite bench

$(ASAN_BUILD)/build.ninja: | bootstrap
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dbuildtype=debug $(MESON_OPTS)

asan: bootstrap $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	MM_UNDER_ASAN=1 scripts/run-tests $(ASAN_BUILD) --no-suite bench --no-suite ct --no-suite native

bench: build
	scripts/run-bench $(BUILD)

$(FUZZ_BUILD)/build.ninja: | bootstrap
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debug -Dc_args=-fsanitize=fuzzer-no-link $(MESON_OPTS)

fuzz: bootstrap $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
