#!/usr/bin/env bash
# t_chat_tokenize.sh — a rendered chat prompt becomes the tokens llama.cpp makes of it: models
# written by make_model with a real vocabulary (vocab/) and a real template (llama.cpp's
# models/templates/) render conversations with `wasm-chord template -m`, and `--tokens`
# (chord_chat_tokenize: special tokens parsed, BOS added unless the template wrote it) must equal
# the llama.cpp oracle's tokens for the same text the way llama.cpp's chat path tokenizes it (a
# leading BOS text stripped, then add_special + parse_special). BOS appears exactly once.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WC="$BUILD/wasm-chord"
SHARED=${CHORD_SHARED:-.}
TPL="$BUILD/llama.cpp-src/models/templates"
[ -x "$WC" ] && [ -x "$BUILD/make_model" ] || { echo "FAIL: $WC or $BUILD/make_model not built"; exit 1; }
[ -f "$SHARED/vocab/ggml-vocab-llama-bpe.gguf" ] || { echo "SKIP: $SHARED/vocab not found"; exit 0; }
[ -d "$TPL" ] || make -s "$BUILD/llama.cpp-src/include/llama.h" >/dev/null 2>&1 || true
[ -d "$TPL" ] || { echo "SKIP: llama.cpp templates absent ($TPL)"; exit 0; }
make -s "$BUILD/oracle" >/dev/null 2>&1 || { echo "SKIP: the llama.cpp oracle cannot be built (make setup)"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; pass=0
ok()  { pass=$((pass+1)); }
bad() { echo "  FAIL: $1"; fails=$((fails+1)); }

# name vocab template bos_text bos_id
models=(
  "llama31 ggml-vocab-llama-bpe.gguf meta-llama-Llama-3.1-8B-Instruct.jinja <|begin_of_text|> 128000"
  "nemo ggml-vocab-llama-spm.gguf mistralai-Mistral-Nemo-Instruct-2407.jinja <s> 1"
  "qwen25 ggml-vocab-llama-spm.gguf Qwen-Qwen2.5-7B-Instruct.jinja <s> 1"
)
for spec in "${models[@]}"; do
    set -- $spec
    name=$1 vocab=$2 tpl=$3 bos_text=$4 bos_id=$5
    m="$tmp/$name.gguf"
    "$BUILD/make_model" --vocab "$SHARED/vocab/$vocab" --layers 1 --embd 32 --ff 64 --heads 2 --tied --type q8_0 \
        --chat-template "$TPL/$tpl" -q -o "$m" || { bad "$name: make_model failed"; continue; }
    "$WC" inspect -m "$m" 2>/dev/null | grep -q "tokenizer.chat_template" || { bad "$name: tokenizer.chat_template missing from the GGUF"; continue; }
    n_conv=0
    for c in basic unicode multi_turn tools; do
        conv="tests/chat/conv/$c.json"
        "$WC" template -m "$m" --messages "$conv" > "$tmp/r" 2> "$tmp/e" || { grep -q . "$tmp/e" && continue; bad "$name/$c: render failed silently"; continue; }
        ours=$("$WC" template -m "$m" --messages "$conv" --tokens) || { bad "$name/$c: --tokens failed"; continue; }
        text=$(cat "$tmp/r"; printf x); text=${text%x}
        case "$text" in "$bos_text"*) text=${text#"$bos_text"};; esac
        ref=$("$BUILD/oracle" tokenize "$m" "$text" --parse-special) || { bad "$name/$c: oracle failed"; continue; }
        if [ "$ours" = "$ref" ]; then ok; else bad "$name/$c: tokens differ from llama.cpp"; echo "    ours: ${ours:0:200}"; echo "    ref:  ${ref:0:200}"; fi
        set -- $ours
        [ "$1" = "$bos_id" ] && [ "${2:-}" != "$bos_id" ] && ok || bad "$name/$c: BOS not exactly once at the start ($1 ${2:-})"
        n_conv=$((n_conv+1))
    done
    echo "  $name ($vocab + $tpl): $n_conv conversations tokenized as llama.cpp does"
    [ $n_conv -gt 0 ] || bad "$name: no conversation rendered"
done
echo "checks passed: $pass, failed: $fails"
[ $fails -eq 0 ] || exit 1
echo "PASS"
