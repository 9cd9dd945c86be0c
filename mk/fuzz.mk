# mk/fuzz.mk — libFuzzer targets (tests/fuzz/fuzz_NAME.c; adding a target is adding that one
# file, and optionally a seed folder tests/fuzz/corpus/NAME/).
#   make fuzz T=NAME SECONDS=N   fuzz one target (all when T is empty) for N seconds each; new
#                                inputs go to build-fuzz/corpus/NAME, crashes to build-fuzz/crash/
#   make fuzz-build              the instrumented binaries only (ASan + UBSan + libFuzzer)
#   make fuzz-seeds              regenerate the generated seeds (tests/fuzz/make_seeds.c)
#   make fuzz-NAME SECONDS=N     the same as make fuzz T=NAME
#   make fuzz-coverage [T=NAME]  line coverage of each committed corpus (build-fuzz-cov/NAME.txt)
# tests/t_fuzz_replay.sh replays the committed corpus once (not fuzzing) in `make test`.
#
# The sub-make that builds the instrumented library gets CHORD_FUZZ_SUBMAKE=1 and skips this
# file, so it can never start another sub-make.
ifndef CHORD_FUZZ_SUBMAKE
FUZZ_BUILD  ?= build-fuzz
FUZZ_CC     ?= clang-19
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# Extra seed folders per target (the malformed GGUF corpus for the file parsers).
FUZZ_EXTRA_load      := tests/data/bad
FUZZ_EXTRA_gguf_meta := tests/data/bad
# llama.cpp's real chat templates, when the oracle's source bundle has been cloned (mk/oracle.mk).
FUZZ_EXTRA_template  := $(wildcard $(BUILD)/llama.cpp-src/models/templates)
# Targets that run code outside the library: its sources (instrumented like the library), the
# headers they depend on and what they link. The server's request side, not its HTTP daemon:
# request.c, oai.c and slots.c, with cJSON (libmicrohttpd is not linked).
FUZZ_SRC_server  := tools/server/request.c tools/server/oai.c tools/server/slots.c
FUZZ_DEPS_server := tools/server/server.h
FUZZ_LIBS_server := -lcjson
FUZZ_INC_server  := -Itools/server
SECONDS     ?= 60

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-replay fuzz-coverage
fuzz-%:
	@$(MAKE) --no-print-directory fuzz T=$* SECONDS=$(SECONDS)

fuzz-build:
	@CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(MAKE) -s CHORD_FUZZ_SUBMAKE=1 BUILD=$(FUZZ_BUILD) \
	    CC=$(FUZZ_CC) $(FUZZ_BUILD)/libchord.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@$(foreach t,$(FUZZ_NAMES),$(call fuzz_link,$(t)) &&) true

# $(call fuzz_link,NAME): (re)link one target when it is older than anything it is made of.
fuzz_link = { bin=$(FUZZ_BUILD)/fuzz/fuzz_$(1); \
    if [ ! -x $$bin ] || [ -n "$$(find tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libchord.a \
            $(FUZZ_SRC_$(1)) $(FUZZ_DEPS_$(1)) -newer $$bin)" ]; then \
        echo "  fuzz_$(1)"; \
        $(FUZZ_CC) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Iplatform -Itests \
            $(FUZZ_INC_$(1)) tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) $(FUZZ_BUILD)/libchord.a -o $$bin \
            $(FUZZ_LIBS_$(1)) -lm -lpthread || exit 1; \
    fi; }

# $(call fuzz_run,NAME,libFuzzer flags): run one target over its corpus folders.
fuzz_run = { [ -f tests/fuzz/fuzz_$(1).c ] || { echo "no fuzz target '$(1)' (have: $(FUZZ_NAMES))"; exit 1; }; \
    mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/crash tests/fuzz/corpus/$(1); \
    $(FUZZ_BUILD)/fuzz/fuzz_$(1) $(2) -rss_limit_mb=2048 -timeout=10 -artifact_prefix=$(FUZZ_BUILD)/crash/$(1)- \
        $(3) tests/fuzz/corpus/$(1) $(FUZZ_EXTRA_$(1)); }

fuzz: fuzz-build
	@$(foreach t,$(or $(T),$(FUZZ_NAMES)),echo "== fuzz_$(t) for $(SECONDS) s" && \
	    $(call fuzz_run,$(t),-max_total_time=$(SECONDS) -print_final_stats=1,$(FUZZ_BUILD)/corpus/$(t)) &&) true

# Every committed input once (-runs=0: load the corpus, run nothing new); tests/t_fuzz_replay.sh.
fuzz-replay: fuzz-build
	@$(foreach t,$(or $(T),$(FUZZ_NAMES)),echo "== replay fuzz_$(t)" && $(call fuzz_run,$(t),-runs=0,) &&) true

# What each target's committed corpus reaches, line by line: the library and the target built
# again with clang's source-based coverage (no sanitizers) in $(FUZZ_COV_BUILD), each corpus
# replayed once, and llvm-cov's per-file table for the files the target is there to exercise
# (FUZZ_COV_NAME, a regex of paths) in $(FUZZ_COV_BUILD)/NAME.txt.
FUZZ_COV_BUILD    ?= build-fuzz-cov
FUZZ_COV_load      := src/(gguf/gguf|gguf/gguf_get|model/model|model/arch|engine/session|engine/forward|api/generate)\.c
FUZZ_COV_gguf_meta := src/(gguf/gguf|gguf/gguf_get|api/model_info)\.c
FUZZ_COV_tokenize  := src/tokenizer/
FUZZ_COV_detok     := src/tokenizer/(encode|vocab)\.c
FUZZ_COV_sampler   := src/engine/sampler\.c
FUZZ_COV_template  := src/chat/
FUZZ_COV_server    := tools/server/
fuzz-coverage:
	@CFLAGS="-O1 -g -fprofile-instr-generate -fcoverage-mapping" $(MAKE) -s CHORD_FUZZ_SUBMAKE=1 \
	    BUILD=$(FUZZ_COV_BUILD) CC=$(FUZZ_CC) $(FUZZ_COV_BUILD)/libchord.a
	@$(foreach t,$(or $(T),$(FUZZ_NAMES)),echo "== coverage of fuzz_$(t)'s corpus" && \
	    $(FUZZ_CC) -O1 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping -std=c11 -D_GNU_SOURCE \
	        -Iinclude -Isrc -Iplatform -Itests $(FUZZ_INC_$(t)) tests/fuzz/fuzz_$(t).c $(FUZZ_SRC_$(t)) \
	        $(FUZZ_COV_BUILD)/libchord.a -o $(FUZZ_COV_BUILD)/fuzz_$(t) $(FUZZ_LIBS_$(t)) -lm -lpthread && \
	    rm -f $(FUZZ_COV_BUILD)/$(t).profraw && \
	    LLVM_PROFILE_FILE=$(FUZZ_COV_BUILD)/$(t).profraw $(FUZZ_COV_BUILD)/fuzz_$(t) -runs=0 \
	        tests/fuzz/corpus/$(t) $(FUZZ_EXTRA_$(t)) 2>&1 | grep -E 'INITED' && \
	    llvm-profdata-19 merge -o $(FUZZ_COV_BUILD)/$(t).profdata $(FUZZ_COV_BUILD)/$(t).profraw && \
	    llvm-cov-19 report $(FUZZ_COV_BUILD)/fuzz_$(t) -instr-profile=$(FUZZ_COV_BUILD)/$(t).profdata \
	        | grep -E '^(Filename|$(FUZZ_COV_$(t)))' | tee $(FUZZ_COV_BUILD)/$(t).txt &&) true

fuzz-seeds:
	$(CC) -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Iplatform -Itests tests/fuzz/make_seeds.c $(BUILD)/libchord.a \
	    -o $(BUILD)/make_seeds -lm -lpthread
	$(BUILD)/make_seeds tests/fuzz/corpus

endif
