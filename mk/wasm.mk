# mk/wasm.mk — `make wasm`: the WebAssembly builds (clang-19 + wasm-ld-19, no emscripten).
#   $(BUILD)/wasm/chord-wasm32.wasm          wasm32, simd128, shared memory + atomics (threads)
#   $(BUILD)/wasm/chord-wasm32-relaxed.wasm  the same plus relaxed SIMD (Chromium)
#   $(BUILD)/wasm/chord-wasm64.wasm          wasm64 (Memory64), simd128, shared memory
#   $(BUILD)/wasm/chord-wasm64-relaxed.wasm  the same plus relaxed SIMD (Chromium)
#   $(BUILD)/wasm/wasm-chord-wasi.wasm       the CLI for wasm32-wasi (wasi-libc, pread, 1 thread)
#   $(BUILD)/wasm/test-quant-wasm*.wasm      the kernels of each variant vs the scalar reference
# Compile with -O3 -c and link WITHOUT -O: with -O clang-19 runs /usr/bin/wasm-opt (binaryen
# 108), which rejects wasm64 modules. Exports use visibility("default") + --export-dynamic
# (export_name would add a table, table64 on wasm64, which node 20 rejects). See
# ../shared/notes/wasm-toolchain.md.

WASM_CC      ?= clang-19
WASM_DIR     := $(BUILD)/wasm
WASM_LIB_SRC := $(filter-out src/gguf/write.c $(wildcard src/quant/avx*.c src/quant/vnni*.c),$(wildcard src/*/*.c))
WASM_FREE_SRC := $(WASM_LIB_SRC) platform/wasm.c $(wildcard bindings/wasm/*.c) $(wildcard platform/wasm_libc/*.c)
WASM_WASI_SRC := $(WASM_LIB_SRC) platform/wasi.c platform/wasm_libc/glibc_mathf.c $(wildcard tools/cli/*.c)
WASM_WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
WASM_FEAT    := -msimd128 -matomics -mbulk-memory -mnontrapping-fptoint -msign-ext -mmutable-globals
WASM_CFLAGS  := -O3 -g0 -std=c11 -ffp-contract=off -DCHORD_QUANT_EXTRA_ISA=1 $(WASM_WARN) -Iinclude -Isrc -Iplatform -MMD -MP
WASM_FREE_CFLAGS := $(WASM_CFLAGS) -ffreestanding -nostdlibinc -isystem platform/wasm_libc/include \
                -Iplatform/wasm_libc -fvisibility=hidden -DCHORD_WASM_FREESTANDING=1
WASM_RT      = /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-$(1).a
WASM_LDFLAGS = -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--shared-memory \
               -Wl,--max-memory=$(2) -Wl,--stack-first -Wl,-z,stack-size=1048576 \
               -Wl,--export=__heap_base -Wl,--export=__stack_pointer -Wl,--export=__wasm_init_tls \
               -Wl,--export=__tls_size -Wl,--export=__tls_align -Wl,--export=__tls_base \
               $(call WASM_RT,$(1))

WASM_OUTS := $(WASM_DIR)/chord-wasm32.wasm $(WASM_DIR)/chord-wasm32-relaxed.wasm \
             $(WASM_DIR)/chord-wasm64.wasm $(WASM_DIR)/chord-wasm64-relaxed.wasm \
             $(WASM_DIR)/wasm-chord-wasi.wasm
WASM_TQ_OUTS := $(foreach v,wasm32 wasm32-relaxed wasm64 wasm64-relaxed,$(WASM_DIR)/test-quant-$(v).wasm)
.PHONY: wasm
wasm: $(WASM_OUTS) $(if $(wildcard tests/wasm_test_quant.c),$(WASM_TQ_OUTS))

# One object directory per variant: w32, w32r (relaxed), w64, w64r (relaxed), wasi.
$(WASM_DIR)/w32/%.o: %.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32 $(WASM_FEAT) $(WASM_FREE_CFLAGS) -c $< -o $@
$(WASM_DIR)/w32r/%.o: %.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32 $(WASM_FEAT) -mrelaxed-simd $(WASM_FREE_CFLAGS) -c $< -o $@
$(WASM_DIR)/w64/%.o: %.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm64 $(WASM_FEAT) $(WASM_FREE_CFLAGS) -c $< -o $@
$(WASM_DIR)/w64r/%.o: %.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm64 $(WASM_FEAT) -mrelaxed-simd $(WASM_FREE_CFLAGS) -c $< -o $@
$(WASM_DIR)/wasi/%.o: %.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32-wasi -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext \
	    $(WASM_CFLAGS) -D_GNU_SOURCE -c $< -o $@

$(WASM_DIR)/chord-wasm32.wasm: $(WASM_FREE_SRC:%.c=$(WASM_DIR)/w32/%.o)
	$(WASM_CC) --target=wasm32 $^ -o $@ $(call WASM_LDFLAGS,wasm32,4294967296)
$(WASM_DIR)/chord-wasm32-relaxed.wasm: $(WASM_FREE_SRC:%.c=$(WASM_DIR)/w32r/%.o)
	$(WASM_CC) --target=wasm32 $^ -o $@ $(call WASM_LDFLAGS,wasm32,4294967296)
# wasm-ld 19 gives wasm64 a 64-bit function table, which node 20 cannot load; lower it to 32-bit
# (platform/wasm_table32.mjs). The .table64 file is the linker's output as is.
$(WASM_DIR)/chord-wasm64.wasm: $(WASM_FREE_SRC:%.c=$(WASM_DIR)/w64/%.o) platform/wasm_table32.mjs
	$(WASM_CC) --target=wasm64 $(filter %.o,$^) -o $@.table64 $(call WASM_LDFLAGS,wasm64,17179869184)
	node platform/wasm_table32.mjs $@.table64 $@
$(WASM_DIR)/chord-wasm64-relaxed.wasm: $(WASM_FREE_SRC:%.c=$(WASM_DIR)/w64r/%.o) platform/wasm_table32.mjs
	$(WASM_CC) --target=wasm64 $(filter %.o,$^) -o $@.table64 $(call WASM_LDFLAGS,wasm64,17179869184)
	node platform/wasm_table32.mjs $@.table64 $@
$(WASM_DIR)/wasm-chord-wasi.wasm: $(WASM_WASI_SRC:%.c=$(WASM_DIR)/wasi/%.o)
	$(WASM_CC) --target=wasm32-wasi $^ -o $@ -Wl,-z,stack-size=1048576

# Kernel test module: the simd128 kernels against the scalar reference, driven by node.
WASM_TQ_SRC := tests/wasm_test_quant.c $(filter-out bindings/wasm/%,$(WASM_FREE_SRC))
$(WASM_DIR)/test-quant-wasm32.wasm: $(WASM_TQ_SRC:%.c=$(WASM_DIR)/w32/%.o)
	$(WASM_CC) --target=wasm32 $^ -o $@ $(call WASM_LDFLAGS,wasm32,4294967296)
$(WASM_DIR)/test-quant-wasm32-relaxed.wasm: $(WASM_TQ_SRC:%.c=$(WASM_DIR)/w32r/%.o)
	$(WASM_CC) --target=wasm32 $^ -o $@ $(call WASM_LDFLAGS,wasm32,4294967296)
$(WASM_DIR)/test-quant-wasm64.wasm: $(WASM_TQ_SRC:%.c=$(WASM_DIR)/w64/%.o) platform/wasm_table32.mjs
	$(WASM_CC) --target=wasm64 $(filter %.o,$^) -o $@.table64 $(call WASM_LDFLAGS,wasm64,17179869184)
	node platform/wasm_table32.mjs $@.table64 $@
$(WASM_DIR)/test-quant-wasm64-relaxed.wasm: $(WASM_TQ_SRC:%.c=$(WASM_DIR)/w64r/%.o) platform/wasm_table32.mjs
	$(WASM_CC) --target=wasm64 $(filter %.o,$^) -o $@.table64 $(call WASM_LDFLAGS,wasm64,17179869184)
	node platform/wasm_table32.mjs $@.table64 $@
