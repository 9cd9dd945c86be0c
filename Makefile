# wasm-chord — one Makefile. Targets: all (native lib + CLI + tools), test, asan, bench, demo,
# wasm, setup, clean. Per-area rules live in mk/*.mk (included below) so that areas can grow
# without editing this file.

CC      ?= gcc
BUILD   ?= build
WARN    := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Isrc -Iplatform -MMD -MP
LDLIBS  += -lm -lpthread
# ISA kernels: compiled with their own flags, selected at run time.
AVX2_FLAGS := -mavx2 -mfma -mf16c
VNNI_FLAGS := $(AVX2_FLAGS) -mavxvnni
# -mavx512bw: the byte/word instructions (vpmaddubsw, vpshufb, ...) then have EVEX forms that
# reach ymm16-31 too; without it GCC copies every such result into the upper registers
# (Q4_K prompt tile +1.6% in a single-thread microbenchmark).
AVX512VNNI_FLAGS := $(AVX2_FLAGS) -mavx512f -mavx512vl -mavx512bw -mavx512vnni

ISA_SRC   := $(wildcard src/quant/avx*.c src/quant/vnni*.c src/quant/simd128*.c)
LIB_SRC   := $(filter-out $(ISA_SRC),$(wildcard src/*/*.c)) platform/native.c
AVX2_SRC  := $(wildcard src/quant/avx2*.c)
VNNI_SRC  := $(wildcard src/quant/vnni*.c)
AVX512VNNI_SRC := $(wildcard src/quant/avx512vnni*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(AVX2_SRC:%.c=$(BUILD)/%.o) $(VNNI_SRC:%.c=$(BUILD)/%.o) \
             $(AVX512VNNI_SRC:%.c=$(BUILD)/%.o)
CLI_SRC   := $(wildcard tools/cli/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tools/*.c)
TOOL_BIN  := $(TOOL_SRC:tools/%.c=$(BUILD)/%)

.PHONY: all test asan bench demo wasm setup clean test-c
all: $(BUILD)/libchord.a $(BUILD)/wasm-chord $(TOOL_BIN) $(TEST_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(AVX2_SRC:%.c=$(BUILD)/%.o): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2_FLAGS) -c $< -o $@

$(VNNI_SRC:%.c=$(BUILD)/%.o): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(VNNI_FLAGS) -c $< -o $@

$(AVX512VNNI_SRC:%.c=$(BUILD)/%.o): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512VNNI_FLAGS) -c $< -o $@

$(BUILD)/libchord.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/wasm-chord: $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libchord.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/%: $(BUILD)/tools/%.o $(BUILD)/libchord.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libchord.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Installs what the project needs on a fresh Debian 12 (apt + npm), only when missing.
setup:
	@bash scripts/setup.sh

# C unit tests, then the scripted suites (tests/t_*.sh), with a summary.
test: setup all
	@T='$(T)' bash scripts/run_tests.sh $(BUILD)

test-c: all
	@T='$(T)' bash scripts/run_tests.sh $(BUILD) --c-only

# The C tests under AddressSanitizer and UndefinedBehaviorSanitizer. CFLAGS goes through the
# environment so `CFLAGS +=` above still appends -I and the warnings; clang-19 because Debian 12's
# default clang (14) lacks __builtin_cpu_supports("f16c").
asan:
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    $(MAKE) BUILD=build-asan CC=clang-19 all
	@ASAN_OPTIONS=detect_leaks=1 T='$(T)' bash scripts/run_tests.sh build-asan --c-only

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-fuzz-cov

# The real model (models/) and tokenizer vectors (vocab/) ship in the repository; CHORD_SHARED
# points elsewhere to test against another copy with the same layout.
CHORD_SHARED ?= $(CURDIR)
export CHORD_SHARED
.SECONDARY:

-include mk/*.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
