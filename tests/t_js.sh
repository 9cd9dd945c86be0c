#!/usr/bin/env bash
# t_js.sh — the JS package's API tests (js/test/*.test.js, node's test runner) against the wasm
# builds: every source kind, progress, abort, dispose/reload, errors, 1 and 2 threads; then the
# wasm64 cases again under --experimental-wasm-memory64 (node 20 needs the flag for Memory64).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 0; }
make -s BUILD="$BUILD" wasm >/dev/null || { echo "FAIL: make wasm"; exit 1; }
[ -f "$BUILD/wasm/chord-wasm32.wasm" ] || { echo "FAIL: $BUILD/wasm/chord-wasm32.wasm missing after make wasm"; exit 1; }
export WASM_CHORD_WASM_DIR="$BUILD/wasm"
rc=0
timeout 300 node --expose-gc --test --test-reporter=spec js/test/*.test.js || rc=1
timeout 120 node --experimental-wasm-memory64 --no-warnings --test --test-reporter=spec \
    --test-name-pattern='wasm64|too-big' js/test/api.test.js js/test/paged.test.js || rc=1
exit $rc
