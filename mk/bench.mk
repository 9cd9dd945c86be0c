# mk/bench.mk — `make bench`: wasm-chord vs llama.cpp, prefill and decode tokens/s on the
# TinyLlama-shaped Q4_K_M and Q8_0 models (bench/run.sh; BENCH_ARGS passes options through,
# e.g. BENCH_ARGS='--threads "1 2 4"').
BENCH_ARGS ?=
bench: setup $(BUILD)/wasm-chord $(BUILD)/make_model
	@BUILD=$(BUILD) bash bench/run.sh $(BENCH_ARGS)
