#!/usr/bin/env bash
# t_memory64.sh — Memory64 past the 4 GiB mark (issue 11): in headless Chromium (16 GiB wasm64)
# loadModel streams stories260K and two small make_model models (Q4_K_M, Q8_0) from a URL into
# wasm64 memory with every weight placed above 4 GiB (the weightsAbove test hook), and the greedy
# token ids must equal the native CLI's with 1 and 2 threads (tests/browser/memory64.mjs).
# Node 20 caps wasm64 at 4 GiB, so this suite is Chromium only.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
SHARED=${CHORD_SHARED:-.}
. tests/lib/browser.sh
MODEL=$SHARED/models/stories260K.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not found"; exit 0; }
make -s BUILD="$BUILD" wasm "$BUILD/wasm-chord" "$BUILD/make_model" >/dev/null || { echo "FAIL: make"; exit 1; }
# Models are served from the repository, so the temporary ones live under $BUILD.
TMP=$(mktemp -d "$BUILD/t_memory64.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
N=32
args=()
"$BUILD/wasm-chord" run -m "$MODEL" -p "" -n $N --temp 0 --json > "$TMP/s.json" 2>/dev/null || { echo "FAIL: native run"; exit 1; }
args+=("$TMP/s.json" "$MODEL")
VOCAB=$SHARED/vocab/ggml-vocab-llama-spm.gguf
i=1
if [ -f "$VOCAB" ]; then
    for ty in q4_k_m q8_0; do
        "$BUILD/make_model" --vocab "$VOCAB" -o "$TMP/m-$ty.gguf" --layers 2 --embd 256 --ff 768 --heads 4 \
            --kv-heads 2 --type $ty -q || { echo "FAIL: make_model $ty"; exit 1; }
        "$BUILD/wasm-chord" run -m "$TMP/m-$ty.gguf" -p "The quick brown fox" -n $N --temp 0 --json > "$TMP/$ty.json" 2>/dev/null \
            || { echo "FAIL: native run $ty"; exit 1; }
        export "CHORD_PROMPT_$i=The quick brown fox"
        args+=("$TMP/$ty.json" "$TMP/m-$ty.gguf")
        i=$((i + 1))
    done
fi
# Opt-in (CHORD_BIG=1): the TinyLlama-shaped Q8_0 (1.2 GB, cached under $BUILD/models by
# tests/parity/lib.sh) above 4 GiB too, plus any models in CHORD_MEMORY64_MODELS (inside the repository).
big=${CHORD_MEMORY64_MODELS:-}
if [ "${CHORD_BIG:-0}" = 1 ] && [ -f tests/parity/lib.sh ]; then
    big="$big $(. tests/parity/lib.sh && ensure_model tinyllama-q8_0)" || { echo "FAIL: making tinyllama-q8_0"; exit 1; }
fi
for m in $big; do
    "$BUILD/wasm-chord" run -m "$m" -p "The quick brown fox" -n 16 --temp 0 --json > "$TMP/big$i.json" 2>/dev/null \
        || { echo "FAIL: native run $m"; exit 1; }
    export "CHORD_PROMPT_$i=The quick brown fox"
    args+=("$TMP/big$i.json" "$m")
    i=$((i + 1))
done
timeout $((400 + 600 * (i - 3 > 0 ? i - 3 : 0))) node tests/browser/memory64.mjs "${args[@]}"
