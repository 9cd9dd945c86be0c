#!/usr/bin/env bash
# t_browser.sh — the demo page in headless Chromium (Debian's /usr/bin/chromium via playwright-core;
# never a downloaded browser): greedy story from stories260K picked with the file input, Stop
# mid-way, and the same text from wasm32/wasm64 with 1 and 2 threads. See tests/browser/demo.mjs.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/lib/browser.sh
make -s BUILD="$BUILD" wasm >/dev/null || { echo "FAIL: make wasm"; exit 1; }
[ -f "$BUILD/wasm/chord-wasm32.wasm" ] || { echo "FAIL: $BUILD/wasm/chord-wasm32.wasm missing"; exit 1; }
export BUILD
timeout 240 node tests/browser/demo.mjs
