#!/usr/bin/env bash
# t_make_model.sh — tools/make_model writes files llama.cpp loads and agrees with, bit for bit:
#  1. bad arguments fail with a message and leave no file behind;
#  2. a tiny model of every tensor type loads and generates in llama.cpp (the prebuilt oracle);
#  3. each quantized file holds exactly the bytes llama.cpp's own llama_model_quantize produces
#     from make_model's F32 file of the same seed (pure types, and the Q4_K_M mixture — tensor
#     types and data — for llama and qwen2, tied and untied, over 9 layers so that llama.cpp's
#     "more bits" layer rule is exercised);
#  4. output does not depend on the thread count; the copied tokenizer tokenizes like the
#     vocabulary file it came from.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SHARED=${CHORD_SHARED:-.}
SPM=$SHARED/vocab/ggml-vocab-llama-spm.gguf
GPT2=$SHARED/vocab/ggml-vocab-gpt-2.gguf
for f in "$SPM" "$GPT2"; do
    [ -f "$f" ] || { echo "SKIP: $f not found (set CHORD_SHARED)"; exit 0; }
done
if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
    echo "SKIP: the llama.cpp oracle is not installed (run 'make setup')"; exit 0
fi
make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/oracle" >/dev/null
MM=$BUILD/make_model
OR=$BUILD/oracle
T=$(mktemp -d "${TMPDIR:-/tmp}/t_make_model.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
TINY="--layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 256"

# ---- 1. bad arguments ------------------------------------------------------------------------
expect_error() {  # expect_error "what it must say" args...
    local want=$1; shift
    if "$MM" "$@" -o "$T/bad.gguf" >"$T/out" 2>&1; then fail "make_model $* succeeded"; return; fi
    grep -q -- "$want" "$T/out" || fail "make_model $*: message lacks '$want': $(cat "$T/out")"
    [ ! -e "$T/bad.gguf" ] && [ ! -e "$T/bad.gguf.tmp" ] || fail "make_model $* left a file"
}
expect_error "--vocab" $TINY
expect_error "must divide --embd" --vocab "$SPM" --embd 256 --heads 3
expect_error "must divide --heads" --vocab "$SPM" --heads 4 --kv-heads 3
expect_error "unknown --type" --vocab "$SPM" --type q7_0
expect_error "--arch" --vocab "$SPM" --arch gpt9
expect_error "nonexistent" --vocab "$T/nonexistent.gguf"
[ $fails -eq 0 ] && ok "bad arguments are refused with a message, no file left"

# ---- 2. every type loads and generates in llama.cpp -----------------------------------------
TYPES="f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k q4_k_m"
for t in $TYPES; do
    "$MM" -q --vocab "$SPM" $TINY --type "$t" -o "$T/$t.gguf" || { fail "make_model --type $t"; continue; }
    if ! "$OR" generate "$T/$t.gguf" -p "Once upon a time" -n 4 -t 2 >"$T/gen.json" 2>"$T/err"; then
        fail "llama.cpp cannot run the $t model: $(cat "$T/err")"; continue
    fi
    n=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));process.stdout.write(String(j.tokens.length))' "$T/gen.json")
    [ "$n" = 4 ] || fail "$t: llama.cpp generated $n tokens, expected 4"
done
ok "llama.cpp loads and runs a tiny model of each type: $TYPES"

# ---- 3. bit-identical to llama.cpp's quantizer ------------------------------------------------
same_tensors() {  # same_tensors OURS THEIRS what
    "$OR" tensors "$1" --hash | sort >"$T/a.t"
    "$OR" tensors "$2" --hash | sort >"$T/b.t"
    if ! cmp -s "$T/a.t" "$T/b.t"; then
        fail "$3: tensors differ from llama.cpp's: $(diff "$T/a.t" "$T/b.t" | head -4 | tr '\n' ' ')"
        return 1
    fi
}
"$MM" -q --vocab "$SPM" $TINY --type f32 -o "$T/src.gguf"
n_ok=0
for p in f16:F16 bf16:BF16 q4_0:Q4_0 q4_1:Q4_1 q5_0:Q5_0 q5_1:Q5_1 q8_0:Q8_0 q2_k:Q2_K q3_k:Q3_K_S \
         q4_k:Q4_K_S q5_k:Q5_K_S q6_k:Q6_K; do
    ours=${p%%:*} theirs=${p##*:}
    rm -f "$T/ref.gguf"
    "$OR" quantize "$T/src.gguf" "$T/ref.gguf" "$theirs" --pure 2>/dev/null || { fail "llama.cpp quantize $theirs"; continue; }
    same_tensors "$T/$ours.gguf" "$T/ref.gguf" "$ours" && n_ok=$((n_ok + 1))
done
ok "$n_ok/12 single-type files are bit-identical to llama_model_quantize --pure of the F32 file"
for arch in llama qwen2; do
    for tied in "" --tied; do
        shape="--arch $arch --layers 9 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 256 $tied"
        "$MM" -q --vocab "$SPM" $shape --type f32 -o "$T/m32.gguf"
        "$MM" -q --vocab "$SPM" $shape --type q4_k_m -o "$T/mkm.gguf"
        rm -f "$T/ref.gguf"
        "$OR" quantize "$T/m32.gguf" "$T/ref.gguf" Q4_K_M 2>/dev/null || { fail "llama.cpp quantize Q4_K_M"; continue; }
        same_tensors "$T/mkm.gguf" "$T/ref.gguf" "q4_k_m $arch $tied" &&
            ok "q4_k_m $arch${tied:+ tied}: same tensor types and bytes as llama.cpp's Q4_K_M ($(grep -c ' q6_K ' "$T/a.t") Q6_K tensors)"
    done
done

# ---- 4. thread-independent output; faithful tokenizer copy -----------------------------------
"$MM" -q -t 1 --vocab "$GPT2" --arch qwen2 --tied $TINY --type q4_k -o "$T/q1.gguf"
"$MM" -q -t 2 --vocab "$GPT2" --arch qwen2 --tied $TINY --type q4_k -o "$T/q2.gguf"
cmp -s "$T/q1.gguf" "$T/q2.gguf" && ok "same bytes with 1 and 2 threads" || fail "output depends on the thread count"
"$OR" generate "$T/q2.gguf" -p "Hello world" -n 4 -t 2 >/dev/null 2>"$T/err" || fail "llama.cpp cannot run qwen2 tied: $(cat "$T/err")"
text="Hello world! Ünïcödé, numbers 12345 and   spaces."
for pair in "$SPM:$T/f32.gguf" "$GPT2:$T/q2.gguf"; do
    a=$("$OR" tokenize "${pair%%:*}" "$text") b=$("$OR" tokenize "${pair##*:}" "$text")
    [ "$a" = "$b" ] || fail "tokenizer copied from ${pair%%:*} tokenizes differently: '$a' vs '$b'"
done
ok "copied tokenizers (llama-spm, gpt-2) tokenize like the originals"

[ $fails -eq 0 ] || { echo "t_make_model: $fails failure(s)"; exit 1; }
echo "t_make_model: all passed"
