#!/usr/bin/env bash
# t_tokenizer_oracle.sh — our tokenizer against llama.cpp's (the prebuilt libllama from npm,
# driven by tools/tok_oracle) on random texts: words, numbers, whitespace runs, contractions,
# many scripts, emoji, special-token texts, malformed UTF-8 and NULs. For every text both sides
# print the ids without BOS / special parsing, the ids with both, and the detokenized bytes;
# the outputs must be identical. Vocabularies: the three in vocab/, plus copies of the
# Llama 3 one relabelled with every other pre-tokenizer we implement (qwen2, default, starcoder,
# qwen35, falcon, deepseek-coder, deepseek-llm, smaug-bpe, dbrx) so that every split meets
# llama.cpp's on a real vocabulary, and llama.cpp's own qwen35/falcon/deepseek test vocabularies.
# Skips (exit 0, "SKIP:") without the npm llama.cpp or the shared vocabularies.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SHARED=${CHORD_SHARED:-.}
BINS=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
BUNDLE=node_modules/node-llama-cpp/llama/gitRelease.bundle
N=${TOK_ORACLE_N:-1500}
if [ ! -f "$BINS/libllama.v0.5.0.so" ] || [ ! -f "$BUNDLE" ]; then
    echo "SKIP: llama.cpp from npm not installed ($BINS/libllama.v0.5.0.so) — run 'make setup'"
    exit 0
fi
if [ ! -f "$SHARED/vocab/ggml-vocab-llama-bpe.gguf" ]; then
    echo "SKIP: $SHARED/vocab not found (set CHORD_SHARED)"
    exit 0
fi
make -s BUILD="$BUILD" "$BUILD/tok_oracle" "$BUILD/tests/test_tokenizer" >/dev/null \
    || { echo "FAIL: cannot build $BUILD/tok_oracle"; exit 1; }
T="$BUILD/tests/test_tokenizer"
DIR="$BUILD/tok-oracle"
rm -rf "$DIR" && mkdir -p "$DIR"
vocabs=()
for v in llama-spm llama-bpe gpt-2; do vocabs+=("$SHARED/vocab/ggml-vocab-$v.gguf"); done
for pre in qwen2 default starcoder qwen35 falcon deepseek-coder deepseek-llm smaug-bpe dbrx; do
    "$T" --repre "$SHARED/vocab/ggml-vocab-llama-bpe.gguf" "$DIR/llama-bpe-as-$pre.gguf" "$pre" \
        || { echo "FAIL: cannot write the $pre copy"; exit 1; }
    vocabs+=("$DIR/llama-bpe-as-$pre.gguf")
done
# llama.cpp's own test vocabularies of those pre-tokenizers (cloned with the oracle's source)
for v in qwen35 falcon deepseek-coder deepseek-llm; do
    f="$BUILD/llama.cpp-src/models/ggml-vocab-$v.gguf"
    [ -f "$f" ] && vocabs+=("$f")
done
status=0
for v in "${vocabs[@]}"; do
    ref=$(./"$BUILD/tok_oracle" "$v" --eog) && our=$("$T" --eog "$v")
    if [ "$ref" = "$our" ]; then echo "$(basename "$v" .gguf): BOS/EOS and end-of-generation set identical ($ref)"
    else echo "FAIL: $(basename "$v" .gguf): llama.cpp '$ref', ours '$our'"; status=1; fi
done
for seed in 11 12; do
    "$T" --gen "$N" "$seed" > "$DIR/inputs-$seed.txt"
    for v in "${vocabs[@]}"; do
        name=$(basename "$v" .gguf)
        ./"$BUILD/tok_oracle" "$v" "$DIR/inputs-$seed.txt" > "$DIR/ref.txt" || { echo "FAIL: tok_oracle on $name"; status=1; continue; }
        "$T" --dump "$v" "$DIR/inputs-$seed.txt" > "$DIR/our.txt" || { echo "FAIL: dump on $name"; status=1; continue; }
        total=$(wc -l < "$DIR/ref.txt")
        bad=$(diff "$DIR/ref.txt" "$DIR/our.txt" | grep -c '^<')
        printf '%-28s seed %s: %d texts x 3 lines, %d differ\n' "$name" "$seed" $((total / 3)) "$bad"
        if [ "$bad" -ne 0 ]; then
            status=1
            diff "$DIR/ref.txt" "$DIR/our.txt" | head -6
        fi
    done
done
[ $status -eq 0 ] && echo "PASS: identical to llama.cpp on every text" || echo "FAIL: differences from llama.cpp"
exit $status
