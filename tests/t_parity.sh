#!/usr/bin/env bash
# t_parity.sh — proof of correctness against llama.cpp (issue 3): on synthetic models from
# tools/make_model (a tiny one per tensor type, qwen2-, Llama-3.2- (rope_freqs) and qwen3-shaped
# ones on F32/Q8_0/Q4_K_M with tied and untied heads, TinyLlama-1.1B-shaped Q4_K_M
# and Q8_0), greedy generation of 64 tokens from the same prompt token ids must give the same ids
# in wasm-chord (`wasm-chord run --json`) as in the prebuilt llama.cpp (build/oracle), with 1 and
# 2 threads, and the first position's top-5 logits must agree. Protocol and tolerance (near-ties,
# measured from llama.cpp's own spread): tests/parity/compare.mjs. Prints a table (also saved to
# $BUILD/parity/table.md); exits non-zero on a real mismatch.
#
# Environment: PARITY_MODELS="tiny-q8_0 qwen2-q8_0 ..." runs a subset (names: tests/parity/lib.sh);
# PARITY_THREADS="1 2"; PARITY_N=64; PARITY_SKIP_BIG=1 leaves out the TinyLlama-shaped models;
# PARITY_CLI=cmd compares another front end taking the same `run` flags (e.g. the JS CLI).
# Models are cached in $BUILD/models (the TinyLlama-shaped ones, 0.6 and 1.1 GB, are written
# directly quantized — no F32 intermediate — and reused by `make bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/parity/lib.sh

CLI=${PARITY_CLI:-$BUILD/wasm-chord}
# Until the inference engine exists there is nothing to compare against; only then skip.
if ! command -v "$CLI" >/dev/null || "$CLI" run --help 2>&1 | grep -q "unknown command"; then
    echo "SKIP: $CLI has no 'run' command yet"; exit 0
fi
for f in "$SPM" "$GPT2" "$BPE"; do [ -f "$f" ] || { echo "SKIP: $f not found (set CHORD_SHARED)"; exit 0; }; done
if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
    echo "SKIP: the llama.cpp oracle is not installed (run 'make setup')"; exit 0
fi
for flag in --tokens --logits-top; do
    "$CLI" run --help 2>&1 | grep -q -- "$flag" || { echo "FAIL: '$CLI run' lacks $flag, which parity needs"; exit 1; }
done
make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/oracle" "$BUILD/llama.cpp-src/include/llama.h" >/dev/null
N=${PARITY_N:-64}
THREADS=${PARITY_THREADS:-1 2}
ALL="$(for t in $TINY_TYPES; do printf 'tiny-%s ' "$t"; done)qwen2-q8_0 qwen2-q4_k_m qwen2-tied-f16"
# the families of issue 8: F32, Q8_0 and Q4_K_M each, tied and untied heads
ALL="$ALL llama3-f32 llama3-q8_0 llama3-q4_k_m llama3-tied-q8_0 llama3-tied-q4_k_m"
ALL="$ALL qwen3-f32 qwen3-q8_0 qwen3-q4_k_m qwen3-tied-q8_0 phi3-f32 phi3-q8_0 phi3-q4_k_m"
ALL="$ALL phi3long-f32 phi3long-q8_0 phi3long-q4_k_m gemma2-f32 gemma2-q8_0 gemma2-q4_k_m gemma3-f32 gemma3-q8_0 gemma3-q4_k_m"
[ "${PARITY_SKIP_BIG:-0}" = 1 ] || ALL="$ALL tinyllama-q4_k_m tinyllama-q8_0"
LIST=${PARITY_MODELS:-$ALL}
PROMPT="Once upon a time, there was a little robot who lived in a lighthouse."

OUT=$BUILD/parity
rm -rf "$OUT"
mkdir -p "$OUT"
RES=$OUT/results.jsonl
: > "$RES"
t_start=$SECONDS
for name in $LIST; do
    model=$(ensure_model "$name")
    ids=$("$BUILD/oracle" tokenize "$model" "$PROMPT")   # llama.cpp's tokenization, BOS as the vocab asks
    for t in $THREADS; do
        node tests/parity/compare.mjs run --oracle "$BUILD/oracle" --cli "$CLI" --model "$model" \
            --tokens "$ids" --threads "$t" --n "$N" --label "${name%-*}" --type "${name##*-}" \
            --dir "$OUT" --out "$RES"
    done
done
echo
echo "Parity with llama.cpp: $N greedy tokens from the same prompt ids, --ignore-eos ($((SECONDS - t_start)) s)"
node tests/parity/compare.mjs table "$RES" | tee "$OUT/table.md"
