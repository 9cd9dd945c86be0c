# mk/fuzz.mk — libFuzzer targets (tests/fuzz/fuzz_<name>.c): `make fuzz-<name> SECONDS=N`
# builds the library under AddressSanitizer with fuzzer instrumentation (clang-19, in
# build-fuzz/, by one sub-make of the Makefile's own library rule), links the target with
# -fsanitize=fuzzer,address and runs it for N seconds (default 60) on build-fuzz/corpus-<name>/,
# seeded by fuzz-seeds-<name>. A crash, leak or timeout leaves its file in build-fuzz/ and
# fails the make.
#
# The sub-make gets CHORD_FUZZ_SUBMAKE=1 and then skips this whole file, so it can never start
# another sub-make (an earlier version defined build-fuzz/libchord.a here, which the sub-make
# took instead of the Makefile's rule and recursed on).
ifndef CHORD_FUZZ_SUBMAKE

FUZZ_CC    ?= clang-19
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -O1 -g -fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer
SECONDS    ?= 60

fuzz-lib:
	CFLAGS="$(FUZZ_FLAGS)" $(MAKE) --no-print-directory CHORD_FUZZ_SUBMAKE=1 BUILD=$(FUZZ_BUILD) \
	    CC=$(FUZZ_CC) $(FUZZ_BUILD)/libchord.a

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c fuzz-lib
	$(FUZZ_CC) -O1 -g -fsanitize=address,fuzzer -Iinclude -Isrc $< $(FUZZ_BUILD)/libchord.a -lm -lpthread -o $@

# Seeds for the template fuzzer: llama.cpp's real chat templates (when the source bundle is there).
fuzz-seeds-template:
	@mkdir -p $(FUZZ_BUILD)/corpus-template
	@if [ -d $(BUILD)/llama.cpp-src/models/templates ]; then \
	    cp -n $(BUILD)/llama.cpp-src/models/templates/*.jinja $(FUZZ_BUILD)/corpus-template/ 2>/dev/null || true; fi

.PHONY: fuzz-lib fuzz-seeds-template
fuzz-%: $(FUZZ_BUILD)/fuzz_% fuzz-seeds-%
	cd $(FUZZ_BUILD) && ASAN_OPTIONS=detect_leaks=1 ./fuzz_$* -max_total_time=$(SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 corpus-$* 2>&1 | tail -n 12
	@cd $(FUZZ_BUILD) && ! ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1 || { echo "fuzz-$*: failures in $(FUZZ_BUILD)/"; exit 1; }

endif
