# demo.mk — the native generation demo (owner: inference area).
#   make demo-native                 generate on an embedded default model: a small llama-shaped
#                                    GGUF made by tools/make_model (random weights, real vocabulary)
#   make demo-native MODEL=x.gguf    generate on your model (PROMPT="...", N=64, THREADS=2)
# `make demo` (mk/js.mk) serves the web demo page; this target is the terminal one.

DEMO_VOCAB  ?= $(or $(CHORD_SHARED),.)/vocab/ggml-vocab-llama-spm.gguf
DEMO_MODEL  := $(BUILD)/demo/demo-random-q8_0.gguf
PROMPT      ?= Once upon a time
N           ?= 64
THREADS     ?= 2

.PHONY: demo-native
$(DEMO_MODEL): $(BUILD)/make_model
	@test -f $(DEMO_VOCAB) || { echo "demo: $(DEMO_VOCAB) not found (set CHORD_SHARED), or pass MODEL=file.gguf" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(BUILD)/make_model -q --vocab $(DEMO_VOCAB) --layers 4 --embd 256 --ff 768 --heads 4 --kv-heads 2 \
	    --ctx 512 --type q8_0 --name demo-random -o $@

demo-native: $(BUILD)/wasm-chord $(if $(MODEL),,$(DEMO_MODEL))
	@if [ -n "$(MODEL)" ]; then \
	    echo "== wasm-chord demo: $(MODEL), prompt \"$(PROMPT)\""; \
	else \
	    echo "== wasm-chord demo: built-in model $(DEMO_MODEL)"; \
	    echo "== NOTE: its weights are RANDOM (tools/make_model), so the text is gibberish; it shows the"; \
	    echo "== engine working. For a real story: make demo-native MODEL=models/stories260K.gguf PROMPT=\"\""; \
	fi
	$(BUILD)/wasm-chord run -m $(or $(MODEL),$(DEMO_MODEL)) -p "$(PROMPT)" -n $(N) -t $(THREADS) --temp 0.8 -s 1
