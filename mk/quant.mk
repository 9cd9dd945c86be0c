# mk/quant.mk — the bit-exact oracle for tensor formats (tools/oracle/ggml_dequant.c): our
# libchord against llama.cpp's prebuilt libggml-base.so from npm. Not part of `all` (it needs
# `make setup` first); tests/t_quant_oracle.sh builds it on demand. Uses ORACLE_BINS and the
# cloned llama.cpp headers from mk/oracle.mk. Our -I paths come first, so "gguf.h" is ours;
# ggml's headers are -isystem so that our warning flags do not judge them.
ORACLE_BINS ?= $(abspath node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
ORACLE_SRC  ?= $(BUILD)/llama.cpp-src

$(BUILD)/ggml_dequant: tools/oracle/ggml_dequant.c $(BUILD)/libchord.a $(ORACLE_SRC)/include/llama.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -isystem $(ORACLE_SRC)/ggml/include $< $(BUILD)/libchord.a -o $@ \
	    -L$(ORACLE_BINS) -l:libggml-base.so -Wl,-rpath,$(ORACLE_BINS) $(LDLIBS)

# Kernel bench: GB/s per type, scalar vs the dispatched kernels, beside the memory read
# bandwidth; then the same per wasm target (Node: wasm32/wasm64 simd128; Chromium: those and the
# relaxed builds) from the kernel test modules (bench/kernels_wasm.mjs; BENCH_WASM=0 skips it).
BENCH_WASM ?= 1
bench-kernels: $(BUILD)/bench_kernels $(if $(filter 1,$(BENCH_WASM)),wasm)
	$(BUILD)/bench_kernels
	@if [ "$(BENCH_WASM)" = 1 ]; then node bench/kernels_wasm.mjs --build-dir $(BUILD); fi

.PHONY: bench-kernels

# Our kernels against ggml's AVX2 build on the same bytes (speed and agreement): make ggml-kbench
$(BUILD)/ggml_kbench: tools/oracle/ggml_kbench.c $(BUILD)/libchord.a $(ORACLE_SRC)/include/llama.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -isystem $(ORACLE_SRC)/ggml/include $< $(BUILD)/libchord.a -o $@ \
	    -L$(ORACLE_BINS) -l:libggml-cpu-haswell.so -l:libggml-base.so -Wl,-rpath,$(ORACLE_BINS) $(LDLIBS)

ggml-kbench: $(BUILD)/ggml_kbench
	$(BUILD)/ggml_kbench

.PHONY: ggml-kbench
