#!/usr/bin/env bash
# t_quant_oracle.sh — our tensor formats against llama.cpp's own ggml, bit for bit
# (tools/oracle/ggml_dequant.c linked with the prebuilt libggml-base.so from npm):
#  1. random inputs of 11 distributions per type: our reference quantizer must write the bytes
#     ggml's quantize_row_*_ref writes, our dequantizer the floats ggml's writes (memcmp), also
#     on fully random block bytes; fp16/bf16 conversions on every half and a sweep of floats.
#  2. files written by llama.cpp itself (llama_model_quantize via tools/oracle, from an F32 model
#     made by tools/make_model): every tensor dequantized by both must be identical, and our
#     quantizer applied to the F32 source must reproduce each quantized tensor's bytes.
# Skips (exit 0, "SKIP:") when the npm llama.cpp is not installed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BINS=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
BUNDLE=node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -f "$BINS/libggml-base.so" ] || [ ! -f "$BUNDLE" ]; then
    echo "SKIP: llama.cpp from npm not installed ($BINS/libggml-base.so) — run 'make setup'"
    exit 0
fi
make -s BUILD="$BUILD" "$BUILD/ggml_dequant" >/dev/null || { echo "FAIL: cannot build $BUILD/ggml_dequant"; exit 1; }

echo "== random data: quantize and dequantize vs ggml"
"$BUILD/ggml_dequant" random --seed 20261123 || exit 1

VOCAB=${CHORD_SHARED:-.}/vocab/ggml-vocab-llama-spm.gguf
if [ ! -f "$VOCAB" ]; then
    echo "SKIP: files quantized by llama.cpp: $VOCAB not found (set CHORD_SHARED)"
    exit 0
fi
if ! make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/oracle" >/dev/null 2>&1; then
    echo "FAIL: cannot build $BUILD/make_model and $BUILD/oracle"
    exit 1
fi
DIR="$BUILD/quant-oracle"
rm -rf "$DIR" && mkdir -p "$DIR"
# Width 256 so that K-quant blocks are used for every matrix (llama.cpp falls back to Q5_0/Q8_0
# on rows that are not a multiple of 256).
"$BUILD/make_model" --vocab "$VOCAB" -o "$DIR/f32.gguf" --layers 1 --embd 256 --ff 512 \
    --heads 4 --seed 7 -t 1 -q || { echo "FAIL: make_model"; exit 1; }
files=()
for t in F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q4_K_S Q5_K_S Q6_K; do
    "$BUILD/oracle" quantize "$DIR/f32.gguf" "$DIR/$t.gguf" "$t" --pure -t 1 2>/dev/null ||
        { echo "FAIL: oracle quantize $t"; exit 1; }
    files+=("$DIR/$t.gguf")
done
# The real mix (Q4_K + Q6_K + F32 norms), as llama.cpp chooses it
"$BUILD/oracle" quantize "$DIR/f32.gguf" "$DIR/Q4_K_M.gguf" Q4_K_M -t 1 2>/dev/null ||
    { echo "FAIL: oracle quantize Q4_K_M"; exit 1; }
files+=("$DIR/Q4_K_M.gguf")
echo "== files quantized by llama_model_quantize: dequantize vs ggml, and our quantizer vs the file"
"$BUILD/ggml_dequant" file --source "$DIR/f32.gguf" "${files[@]}" || exit 1
rm -rf "$DIR"
echo "t_quant_oracle: all bit-exact"
