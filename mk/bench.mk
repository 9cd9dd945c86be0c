# mk/bench.mk — `make bench`: wasm-chord vs llama.cpp, prefill and decode tokens/s on the
# TinyLlama-shaped Q4_K_M and Q8_0 models (bench/run.sh; BENCH_ARGS passes options through,
# e.g. BENCH_ARGS='--threads "1 2 4"'), then the Chromium rows: our wasm32/wasm64 relaxed builds vs
# wllama (the version installed in node_modules, named in the heading) in headless Chromium on the
# same files, plus our wasm32 build in Node as the package picks it (relaxed SIMD, under Node 20 behind
# a V8 flag the package sets) and the plain-simd128 one (bench/browser_bench.mjs: one load per row,
# the best of 3 runs, as the native rows; BENCH_BROWSER=0 skips them),
# then the server rows: `wasm-chord serve` at --parallel 1 and 2 beside `run` on the same prompts
# (bench/server_bench.mjs; BENCH_SERVER=0 skips them).
BENCH_ARGS ?=
BENCH_BROWSER ?= 1
BENCH_SERVER ?= 1
WLLAMA_VERSION = $(shell node -p "require('./node_modules/@wllama/wllama/package.json').version" 2>/dev/null || echo '(not installed)')
bench: setup $(BUILD)/wasm-chord $(BUILD)/make_model $(if $(filter 1,$(BENCH_BROWSER)),wasm)
	@BUILD=$(BUILD) bash bench/run.sh $(BENCH_ARGS)
	@if [ "$(BENCH_BROWSER)" = 1 ]; then echo; echo "== Chromium: wasm-chord (wasm32, wasm64 relaxed) vs wllama $(WLLAMA_VERSION); Node: wasm-chord wasm32 relaxed and simd128"; \
	    node bench/browser_bench.mjs --build-dir $(BUILD) --threads 1,2 --prompt-tokens 64 --decode 64; fi
	@if [ "$(BENCH_SERVER)" = 1 ]; then echo; node bench/server_bench.mjs --build-dir $(BUILD); fi

# `make bench-paged`: resident vs paged weights (bench/paged.sh; BENCH_PAGED_ARGS passes options,
# CHORD_BIG=1 adds the 7B-shaped Q4_K_M).
BENCH_PAGED_ARGS ?=
.PHONY: bench-paged
bench-paged: $(BUILD)/wasm-chord $(BUILD)/make_model
	@BUILD=$(BUILD) bash bench/paged.sh $(BENCH_PAGED_ARGS)

# `make bench-big` (issue 11, opt-in: ~1 h, 11 GB of models cached once in $CHORD_BIG_DIR, default
# $(BUILD)/models): the 7B-shaped Q4_K_M and Q8_0 in Chromium at 2 threads — ours wasm64-resident
# and wasm32-paged with half the layers vs wllama64 and @wllama/wllama — load time, prefill and
# decode tok/s, peak process memory (bench/big_bench.mjs; BENCH_BIG_ARGS passes options).
.PHONY: bench-big
bench-big: setup wasm $(BUILD)/wasm-chord $(BUILD)/make_model
	@BUILD=$(BUILD) node bench/big_bench.mjs $(BENCH_BIG_ARGS)
