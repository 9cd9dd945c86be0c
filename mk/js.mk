# js.mk — the JS package, demo page and browser suites (owner: JS/browser area).
#   make demo           serve web/ with COOP/COEP headers and print the address (DEMO_PORT=8080)
#   make js-test        node API tests (tests/t_js.sh)
#   make browser-test   demo page in headless Chromium (tests/t_browser.sh)
#   make bench-browser  Chromium rows: our wasm32/wasm64 vs wllama, and the Node row (bench/browser_bench.mjs)
.PHONY: demo js-test browser-test bench-browser
DEMO_PORT ?= 8080

demo: setup wasm
	@node tools/serve.mjs --port $(DEMO_PORT) --page 'web/$(if $(filter build,$(BUILD)),,?wasm=/$(BUILD)/wasm/)'

js-test: wasm
	@BUILD=$(BUILD) bash tests/t_js.sh

browser-test: wasm
	@BUILD=$(BUILD) bash tests/t_browser.sh

bench-browser: wasm
	@node bench/browser_bench.mjs --build-dir $(BUILD)
