#!/usr/bin/env bash
# t_model_cache.sh — the synthetic-model cache of tests/parity/lib.sh (ensure_model) is keyed on
# what decides a file's bytes and nothing else. In a scratch copy of the sources (the repository
# is never edited), on tiny-q4_k (K-quant blocks with fp16 scales, made in about a second):
#   1. edits to kernel files only (avx2.c, vnni.c, x86*.h, kernels.h, simd128*, traits.c as
#      text) keep the cached file: no remake, same stamp, same inode;
#   2. an edit to a reference quantizer's source (ref_k.c) remakes it;
#   3. a quantizer whose behaviour changes outside the hashed sources (traits.c's fp16 rounding
#      made truncation, built into a second make_model) remakes it, and the new file's bytes do
#      differ — so make_model --quant-probe saw a real change;
#   4. the same for the vocabulary file a model names.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
SHARED=$(cd "${CHORD_SHARED:-.}" && pwd)
[ -x "$BUILD/make_model" ] || { echo "FAIL: $BUILD/make_model is not built"; exit 1; }
[ -f "$SHARED/vocab/ggml-vocab-llama-spm.gguf" ] || { echo "SKIP: no vocab/ in $SHARED"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

mkdir -p "$T/tree" "$T/models" "$T/variant"
cp --parents tools/make_model.c tools/synth/* src/gguf/* src/quant/* "$T/tree/"
cd "$T/tree"
export BUILD CHORD_SHARED=$SHARED MODELS=$T/models
# shellcheck source=tests/parity/lib.sh
. "$REPO/tests/parity/lib.sh"
NAME=tiny-q4_k
F=$MODELS/$NAME.gguf

# make NAME with the current BUILD; sets MADE=1 when it was (re)made
make_it() { ensure_model "$NAME" >/dev/null 2>"$T/log" || { cat "$T/log"; return 1; }; MADE=$(grep -c '^made ' "$T/log"); }

make_it
check "first ensure_model makes the file" '[ "$MADE" = 1 ] && [ -s "$F" ]'
stamp0=$(cat "$F.stamp")
inode0=$(stat -c %i "$F")
cp "$F" "$T/original.gguf"

for k in src/quant/avx2.c src/quant/vnni.c src/quant/avx512vnni.c src/quant/x86*.h src/quant/kernels.h \
         src/quant/simd128*.[ch] src/quant/quant.h src/quant/traits.c; do
    echo "/* a kernel edit */" >>"$k"
done
make_it
check "kernel-only edits keep the cache (no remake, same stamp, same file)" \
    '[ "$MADE" = 0 ] && [ "$(cat "$F.stamp")" = "$stamp0" ] && [ "$(stat -c %i "$F")" = "$inode0" ]'

echo "/* a quantizer edit */" >>src/quant/ref_k.c
make_it
check "an edit to a reference quantizer's source remakes the file" '[ "$MADE" = 1 ] && [ "$(cat "$F.stamp")" != "$stamp0" ]'
cp "$REPO/src/quant/ref_k.c" src/quant/ref_k.c
make_it
check "undoing it gives the first stamp back" '[ "$MADE" = 1 ] && [ "$(cat "$F.stamp")" = "$stamp0" ]'

# fp16 rounding → truncation in traits.c (not a hashed source: only the probe can see it)
sed -i 's/if (rem > 0x1000u || (rem == 0x1000u \&\& (h \& 1u))) h++;/(void)rem;/' src/quant/traits.c
check "the fp16 rounding was edited in the scratch traits.c" '! grep -q "rem == 0x1000u" src/quant/traits.c'
cc -O2 -std=c11 -D_GNU_SOURCE -I"$REPO/include" -I"$REPO/src" -I"$REPO/platform" -c src/quant/traits.c -o "$T/traits.o" &&
    cc "$BUILD/tools/make_model.o" "$BUILD"/tools/synth/*.o "$T/traits.o" "$BUILD/libchord.a" -o "$T/variant/make_model" -lm -lpthread
check "a make_model with truncating fp16 builds" '[ -x "$T/variant/make_model" ]'
BUILD=$T/variant make_it
check "a quantizer behaving differently (same hashed sources) remakes the file" '[ "$MADE" = 1 ] && [ "$(cat "$F.stamp")" != "$stamp0" ]'
check "... and its bytes do differ" '! cmp -s "$F" "$T/original.gguf"'
make_it
check "the real make_model again: the first stamp, the same bytes as before" \
    '[ "$MADE" = 1 ] && [ "$(cat "$F.stamp")" = "$stamp0" ] && cmp -s "$F" "$T/original.gguf"'

# the vocabulary is an input too: a changed copy remakes
cp "$SHARED/vocab/ggml-vocab-llama-spm.gguf" "$T/spm.gguf"
TINY_SHAPE=${TINY_SHAPE/$SHARED\/vocab\/ggml-vocab-llama-spm.gguf/$T/spm.gguf}
check "the scratch vocabulary is in the arguments" '[[ "$(model_args "$NAME")" == *"--vocab $T/spm.gguf "* ]]'
make_it
stamp1=$(cat "$F.stamp")
printf 'x' >>"$T/spm.gguf"
make_it
check "a changed vocabulary file remakes the file" '[ "$MADE" = 1 ] && [ "$(cat "$F.stamp")" != "$stamp1" ]'

[ "$fails" = 0 ] || { echo "t_model_cache: $fails FAILED"; exit 1; }
echo "t_model_cache: all passed"
