#!/usr/bin/env bash
# t_stores.sh — host stores in headless Chromium (tests/browser/stores.mjs): File/Blob, HTTP Range,
# ArrayBuffer regions and the OPFS download cache (resume, no network when cached, delete), each
# giving the native token ids; the Node stores are in js/test/stores.test.js (tests/t_js.sh).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
SHARED=${CHORD_SHARED:-.}
. tests/lib/browser.sh
MODEL=$SHARED/models/stories260K.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not found"; exit 0; }
make -s BUILD="$BUILD" wasm "$BUILD/wasm-chord" >/dev/null || { echo "FAIL: make"; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# Served from the repository: a copy under $BUILD when the model lives elsewhere.
case "$(realpath "$MODEL")" in "$(pwd)"/*) ;; *) cp "$MODEL" "$BUILD/t_stores-model.gguf"; MODEL=$BUILD/t_stores-model.gguf ;; esac
"$BUILD/wasm-chord" run -m "$MODEL" -p "" -n 24 --temp 0 --json > "$TMP/ref.json" 2>/dev/null || { echo "FAIL: native run"; exit 1; }
timeout 300 node tests/browser/stores.mjs "$TMP/ref.json" "$MODEL"
