#!/usr/bin/env bash
# t_tokenizer_vocabs.sh — every tokenizer test vocabulary llama.cpp ships (models/ggml-vocab-*.gguf
# of the bundled source, cloned into $BUILD/llama.cpp-src by the oracle's make rule): a vocabulary
# we load must give llama.cpp's ids on all of its test vectors (.inp/.out, tokenized with
# --no-bos as llama.cpp's test-tokenizer-0 does); one we do not support must be refused with an
# error naming the tokenizer model or pre-tokenizer — never loaded and tokenized differently.
# Prints one line per vocabulary.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WC="$BUILD/wasm-chord"
command -v node >/dev/null || { echo "SKIP: node not found (needed to split the vectors)"; exit 0; }
if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
    echo "SKIP: llama.cpp's source bundle is not installed (run 'make setup')"; exit 0
fi
make -s BUILD="$BUILD" "$BUILD/wasm-chord" "$BUILD/llama.cpp-src/include/llama.h" >/dev/null || { echo "FAIL: build"; exit 1; }
. tests/lib/vocab_vectors.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; supported=0; refused=0
for f in "$BUILD"/llama.cpp-src/models/ggml-vocab-*.gguf; do
    v=$(basename "$f" .gguf); v=${v#ggml-vocab-}
    err=$("$WC" tokenize -m "$f" -p "x" --no-bos 2>&1 >/dev/null)
    if [ -n "$err" ]; then
        if grep -q "not supported\|not a supported" <<<"$err" && grep -q "tokenizer.ggml" <<<"$err"; then
            printf "  %-16s refused: %s\n" "$v" "${err#*: error: }"; refused=$((refused+1))
        else
            printf "  FAIL %-11s unclear error: %s\n" "$v" "$err"; fails=$((fails+1))
        fi
        continue
    fi
    if [ ! -f "$f.inp" ] || [ ! -f "$f.out" ]; then
        printf "  %-16s loads (llama.cpp ships no vectors for it)\n" "$v"; continue
    fi
    vocab_vectors "$WC" "$f" "$tmp/$v"
    match=$VV_MATCH; n=$VV_N; first=${VV_DIFFS%%$'\n'*}
    if [ $match -eq $n ]; then
        printf "  %-16s %d/%d vectors\n" "$v" "$match" "$n"; supported=$((supported+1))
    else
        printf "  FAIL %-11s %d/%d vectors (%s)\n" "$v" "$match" "$n" "$first"; fails=$((fails+1))
    fi
done
echo "t_tokenizer_vocabs: $supported vocabularies pass all vectors, $refused refused by name, $fails failures"
exit $((fails > 0))
