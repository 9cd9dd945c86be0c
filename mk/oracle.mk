# mk/oracle.mk — the llama.cpp oracle (tools/oracle/): a small C harness linked against the
# prebuilt libllama from npm (node-llama-cpp). Not part of `all`: the npm packages are installed
# by `make setup`, so tests build it on demand with `make $(BUILD)/oracle`.
# llama.h/ggml.h come from the source bundle shipped in the same npm package, cloned into the
# build directory (never committed); the ABI matches the prebuilt binaries (tag v0.5.0).

ORACLE_BINS    := $(abspath node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
ORACLE_BUNDLE  := node_modules/node-llama-cpp/llama/gitRelease.bundle
ORACLE_SRC     := $(BUILD)/llama.cpp-src

$(ORACLE_SRC)/include/llama.h: | $(ORACLE_BUNDLE)
	@rm -rf $(ORACLE_SRC)
	@mkdir -p $(BUILD)
	git -c advice.detachedHead=false clone -q $(ORACLE_BUNDLE) $(ORACLE_SRC)
	@touch $@

$(ORACLE_BUNDLE):
	@echo "oracle: $(ORACLE_BUNDLE) missing — run 'make setup' (npm ci) first" >&2; exit 1

# The llama.cpp headers are not ours: -isystem keeps our warning flags from judging them, and
# our -I paths are dropped so that its gguf.h is not shadowed by src/gguf/gguf.h.
$(BUILD)/oracle: tools/oracle/oracle.c $(ORACLE_SRC)/include/llama.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -I%,$(CFLAGS)) -isystem $(ORACLE_SRC)/include -isystem $(ORACLE_SRC)/ggml/include \
	    -DORACLE_BINS='"$(ORACLE_BINS)"' $< -o $@ \
	    -L$(ORACLE_BINS) -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so -l:libggml-base.so \
	    -Wl,-rpath,$(ORACLE_BINS) -lm

.PHONY: oracle
oracle: $(BUILD)/oracle
