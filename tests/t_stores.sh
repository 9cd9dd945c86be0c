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
make -s BUILD="$BUILD" wasm "$BUILD/wasm-chord" "$BUILD/make_model" >/dev/null || { echo "FAIL: make"; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# Served from the repository: a copy under $BUILD when the model lives elsewhere.
case "$(realpath "$MODEL")" in "$(pwd)"/*) ;; *) cp "$MODEL" "$BUILD/t_stores-model.gguf"; MODEL=$BUILD/t_stores-model.gguf ;; esac
"$BUILD/wasm-chord" run -m "$MODEL" -p "" -n 24 --temp 0 --json > "$TMP/ref.json" 2>/dev/null || { echo "FAIL: native run"; exit 1; }
# A 5 MB model (32000-token vocabulary, one small layer) for the OPFS quota running out in the
# middle of the data: Chromium grants the cache's space in 1 MiB+ steps, more than the whole of
# stories260K (1.1 MB), so with that model only the first grant can fail.
QUOTA_MODEL=$BUILD/t_stores-quota.gguf
"$BUILD/make_model" --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" --layers 1 --embd 128 --ff 256 --heads 2 --tied \
    --type q8_0 -q -o "$QUOTA_MODEL" || { echo "FAIL: make_model"; exit 1; }
"$BUILD/wasm-chord" run -m "$QUOTA_MODEL" -p "" -n 8 --temp 0 --json > "$TMP/ref_quota.json" 2>/dev/null || { echo "FAIL: native run (quota model)"; exit 1; }
timeout 300 node tests/browser/stores.mjs "$TMP/ref.json" "$MODEL" "$TMP/ref_quota.json" "$QUOTA_MODEL"
