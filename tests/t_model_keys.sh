#!/usr/bin/env bash
# t_model_keys.sh — issue 8's principle: a file with an extra tensor or metadata key gives either
# llama.cpp's tokens or a clear refusal naming the tensor/key, never different tokens.
#
# Each case is a tiny synthetic model from tools/make_model with one extra tensor or key. "same"
# cases: wasm-chord's 32 greedy tokens must equal llama.cpp's (tests/parity/compare.mjs, near-ties
# as in t_parity.sh), and llama.cpp's own tokens must differ from those of the base model without
# the extra — proof that the case exercises the feature (a test that ignoring it would fail).
# "refuse" cases: `wasm-chord run` must exit non-zero with `unsupported` and the name in its one
# error line; where llama.cpp refuses too, the oracle must fail to load the file as well.
# "tok" cases: `wasm-chord tokenize` must print llama.cpp's ids for a few strings.
# Matrices use --wstd 0.1 so that attention and positions visibly move the logits.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SHARED=${CHORD_SHARED:-.}
CLI=$BUILD/wasm-chord
BPE=$SHARED/vocab/ggml-vocab-llama-bpe.gguf
SPM=$SHARED/vocab/ggml-vocab-llama-spm.gguf
for f in "$BPE" "$SPM" "$SHARED/vocab/ggml-vocab-gpt-2.gguf"; do [ -f "$f" ] || { echo "SKIP: $f not found (set CHORD_SHARED)"; exit 0; }; done
if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
    echo "SKIP: the llama.cpp oracle is not installed (run 'make setup')"; exit 0
fi
make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/oracle" "$BUILD/wasm-chord" >/dev/null || { echo "FAIL: build"; exit 1; }
D=$BUILD/model_keys
rm -rf "$D"; mkdir -p "$D"
trap 'rm -f "$D"/*.gguf' EXIT  # the logs stay for a failure's reader; the models (430 MB) go
fails=0; n=0
ok()  { echo "ok   $1"; n=$((n+1)); }
bad() { echo "FAIL $1"; fails=$((fails+1)); n=$((n+1)); }

LLAMA="--vocab $SPM --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --rope-theta 500000 --wstd 0.1"
QWEN2="--arch qwen2 --vocab $SHARED/vocab/ggml-vocab-gpt-2.gguf --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --wstd 0.1"
PROMPT="Once upon a time, there was a little robot who lived in a lighthouse."

make_m() { # NAME ARGS... -> path
    local name=$1; shift
    "$BUILD/make_model" -q "$@" -o "$D/$name.gguf" >&2 || return 1
    echo "$D/$name.gguf"
}
oracle_tokens() { "$BUILD/oracle" generate "$1" --tokens "$2" -n 32 2>/dev/null | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).tokens.join(" "))}catch{console.log("")}})'; }

base_llama=$(make_m base-llama $LLAMA) || { echo "FAIL: make_model"; exit 1; }
base_qwen2=$(make_m base-qwen2 $QWEN2) || { echo "FAIL: make_model"; exit 1; }
ids_llama=$("$BUILD/oracle" tokenize "$base_llama" "$PROMPT")
ids_qwen2=$("$BUILD/oracle" tokenize "$base_qwen2" "$PROMPT")
ref_llama=$(oracle_tokens "$base_llama" "$ids_llama")
ref_qwen2=$(oracle_tokens "$base_qwen2" "$ids_qwen2")
PHI3="--arch phi3 --vocab $BUILD/llama.cpp-src/models/ggml-vocab-phi-3.gguf --layers 1 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512"
base_phi3=$(make_m base-phi3 $PHI3 --wstd 0.1) || { echo "FAIL: make_model"; exit 1; }
ids_phi3=$("$BUILD/oracle" tokenize "$base_phi3" "$PROMPT")
ref_phi3=$(oracle_tokens "$base_phi3" "$ids_phi3")

# Gemma bases: gemma2 with a window of 8 (< the prompt) on 4 layers; gemma3 on 6 layers (the
# default pattern: 5 sliding, 1 global) untied and without a window, and gemma3w with window 8.
GEMMA2="--arch gemma2 --vocab $SPM --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --wstd 0.1 --swa 8"
GEMMA3="--arch gemma3 --vocab $SPM --layers 6 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --wstd 0.1"
declare -A SHAPE=([llama]=$LLAMA [qwen2]=$QWEN2 [phi3]="$PHI3 --wstd 0.1" [gemma2]=$GEMMA2 [gemma3]=$GEMMA3
                  [gemma3w]="$GEMMA3 --swa 8")
declare -A IDS=([llama]=$ids_llama [qwen2]=$ids_qwen2 [phi3]=$ids_phi3)
declare -A REF=([llama]=$ref_llama [qwen2]=$ref_qwen2 [phi3]=$ref_phi3)
declare -A TOP=()
oracle_top() { "$BUILD/oracle" generate "$1" --tokens "$2" -n 1 2>/dev/null | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).first_top_logits.map(p=>p[0]+":"+p[1].toFixed(3)).join(" "))}catch{console.log("")}})'; }
for b in gemma2 gemma3 gemma3w; do
    f=$(make_m "base-$b" ${SHAPE[$b]}) || { echo "FAIL: make_model"; exit 1; }
    IDS[$b]=$("$BUILD/oracle" tokenize "$f" "$PROMPT")
    REF[$b]=$(oracle_tokens "$f" "${IDS[$b]}")
    TOP[$b]=$(oracle_top "$f" "${IDS[$b]}")
done

# same NAME BASE TYPE MAKE_MODEL_ARGS... : llama.cpp's tokens, and a real difference from BASE's
# (BASE = llama|qwen2|phi3|gemma2|gemma3|gemma3w). Monotone changes (final soft-capping) cannot
# move greedy tokens: with SAME_BY=logits the difference is in llama.cpp's first top-5 logits.
same_() {
    local name=$1 base=$2 type=$3; shift 3
    local shape=${SHAPE[$base]} ids=${IDS[$base]} ref=${REF[$base]}
    local f; f=$(make_m "$name" $shape --type "$type" "$@") || { bad "$name: make_model failed"; return; }
    local theirs; theirs=$(oracle_tokens "$f" "$ids")
    [ -n "$theirs" ] || { bad "$name: llama.cpp did not run the file"; return; }
    if [ "${SAME_BY:-tokens}" = logits ]; then
        if [ "$(oracle_top "$f" "$ids")" = "${TOP[$base]}" ]; then
            bad "$name: llama.cpp gives the base model's logits, the case proves nothing"; return
        fi
    elif [ "${SAME_BY:-tokens}" = ignored ]; then
        if [ "$theirs" != "$ref" ]; then bad "$name: llama.cpp does not ignore it (tokens changed)"; return; fi
    elif [ "$type" = f32 ] && [ "$theirs" = "$ref" ]; then
        bad "$name: llama.cpp gives the base model's tokens, the case proves nothing"; return
    fi
    if node tests/parity/compare.mjs run --oracle "$BUILD/oracle" --cli "$CLI" --model "$f" --tokens "$ids" \
        --threads 1 --n 32 --label "$name" --type "$type" --dir "$D" --out "$D/results.jsonl" > "$D/$name.log" 2>&1 &&
        tail -1 "$D/$name.log" | grep -q '^ok'; then
        ok "$name: llama.cpp's tokens ($(tail -1 "$D/$name.log" | sed 's/^ok *//'))"
    else
        bad "$name: $(tail -1 "$D/$name.log")"
    fi
}

# refuse NAME EXPECTED_TEXT ORACLE(refuses|loads|-) MAKE_MODEL_ARGS...  (only "refuses" is checked)
refuse_() {
    local name=$1 want=$2 oracle=$3; shift 3
    local f; f=$(make_m "$name" "$@") || { bad "$name: make_model failed"; return; }
    local err rc
    err=$("$CLI" run -m "$f" -p "hi" -n 2 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 0 ]; then bad "$name: wasm-chord ran the file (expected a refusal naming $want)"; return; fi
    if ! grep -q "unsupported\|not supported\|not used" <<<"$err" || ! grep -qF -- "$want" <<<"$err"; then
        bad "$name: error does not name '$want': $err"; return
    fi
    if [ "$oracle" = refuses ] && "$BUILD/oracle" generate "$f" --tokens "1 2" -n 1 >/dev/null 2>&1; then
        bad "$name: llama.cpp loads the file (the case claims it refuses)"; return
    fi
    ok "$name: refused ($err)"
}

# tok NAME PRE : the llama-bpe vocabulary with tokenizer.ggml.pre = PRE tokenizes like llama.cpp
tok_() {
    local name=$1 pre=$2
    local f; f=$(make_m "$name" $LLAMA --vocab "$BPE" --layers 1 --embd 32 --ff 32 --heads 1 --kv-heads 1 --kv "tokenizer.ggml.pre=str:$pre") || { bad "$name: make_model failed"; return; }
    local s ours theirs bad_one=""
    for s in "Cửa Việt" "Hello world" " hello" "I'm 1234567 ok?!" $'line\n\n  two'; do
        ours=$("$CLI" tokenize -m "$f" -p "$s" 2>&1); theirs=$("$BUILD/oracle" tokenize "$f" "$s" 2>&1)
        [ "$ours" = "$theirs" ] || bad_one="'$s': ours [$ours] llama.cpp [$theirs]"
    done
    [ -z "$bad_one" ] && ok "$name: tokenizes like llama.cpp" || bad "$name: $bad_one"
}

# Each case's model is removed once checked (the bases stay): kept, the 50-odd F32 models filled
# 3 GB of $BUILD, and a CI run on a small disk failed 8 suites with write errors.
same()   { same_ "$@";   rm -f "$D/$1.gguf"; }
refuse() { refuse_ "$@"; rm -f "$D/$1.gguf"; }
tok()    { tok_ "$@";    rm -f "$D/$1.gguf"; }

echo "== extra tensors and keys that llama.cpp implements: same tokens =="
same rope-freqs-wide llama f32 --rope-freqs wide
same rope-freqs-wide-tied llama f32 --rope-freqs wide --tied
same rope-freqs-llama3-q4_k_m llama q4_k_m --rope-freqs llama3
same rope-freqs-wide-q8_0 llama q8_0 --rope-freqs wide
same scaling-factor-no-type llama f32 --kv llama.rope.scaling.factor=f32:4
same scale-linear llama f32 --kv llama.rope.scale_linear=f32:4
same scaling-linear llama f32 --kv llama.rope.scaling.type=str:linear --kv llama.rope.scaling.factor=f32:2
same attn-factor llama f32 --kv llama.rope.scaling.attn_factor=f32:0.7
same yarn llama f32 --kv llama.rope.scaling.type=str:yarn --kv llama.rope.scaling.factor=f32:4 \
    --kv llama.rope.scaling.original_context_length=u32:128
same yarn-qwen2 qwen2 f32 --kv qwen2.rope.scaling.type=str:yarn --kv qwen2.rope.scaling.factor=f32:4 \
    --kv qwen2.rope.scaling.original_context_length=u32:128
same attn-output-bias llama f32 --bias-o
same ffn-bias llama f32 --bias-ffn
same ffn-bias-q8_0 llama q8_0 --bias-o --bias-ffn
same fused-qkv llama f32 --fused-qkv
same qwen2-output-bias qwen2 f32 --bias-out
same phi3-attn-factor phi3 f32 --kv phi3.rope.scaling.attn_factor=f32:0.7
same gemma2-swa-pattern gemma2 f32 --kv gemma2.attention.sliding_window_pattern=u32:3
same gemma2-swa-pattern-array gemma2 f32 --kv gemma2.attention.sliding_window_pattern=bools:1,1,0,0
same gemma2-27b-scale gemma2 f32 --layers 46 --embd 128 --heads 2 --kv-heads 1 --head-dim 128
same gemma3-swa gemma3 f32 --swa 8
same gemma3-tied gemma3 f32 --tied
same gemma3-swa-q4_k_m gemma3w q4_k_m --tied
same gemma3-swa-pattern gemma3w f32 --kv gemma3.attention.sliding_window_pattern=u32:2
same gemma3-swa-pattern-array gemma3w f32 --kv gemma3.attention.sliding_window_pattern=u32s:1,0,1,1,0,1
same gemma3-freq-base-swa gemma3w f32 --kv gemma3.rope.freq_base_swa=f32:100
same gemma3-scaling-global gemma3w f32 --kv gemma3.rope.scaling.type=str:linear --kv gemma3.rope.scaling.factor=f32:8
same gemma3-yarn gemma3w f32 --kv gemma3.rope.scaling.type=str:yarn --kv gemma3.rope.scaling.factor=f32:4 \
    --kv gemma3.rope.scaling.original_context_length=u32:128 --kv gemma3.rope.freq_base_swa=f32:1000
same gemma3-27b-scale gemma3w f32 --layers 62 --embd 128 --heads 2 --kv-heads 1 --head-dim 128
# Phi-3 128k: the long factors when the context (here 32 + 19 + 16, rounded up to 256 as llama.cpp
# does) exceeds rope.scaling.original_context_length, else the short ones (default: context_length)
same phi3-longrope-long phi3 f32 --rope-factors --kv phi3.rope.scaling.original_context_length=u32:128 \
    --kv phi3.rope.scaling.attn_factor=f32:1.19
same phi3-longrope-short phi3 f32 --rope-factors
same phi3-longrope-long-q8_0 phi3 q8_0 --rope-factors --kv phi3.rope.scaling.original_context_length=u32:255
SAME_BY=logits same gemma3-final-softcap gemma3w f32 --kv gemma3.final_logit_softcapping=f32:2
SAME_BY=ignored same gemma3-attn-softcap-ignored gemma3w f32 --kv gemma3.attn_logit_softcapping=f32:1
# gemma3 with window 0: llama.cpp runs no sliding window at all (nor reads the pattern)
SAME_BY=ignored same gemma3-swa-zero gemma3 f32 --kv gemma3.attention.sliding_window=u32:0 \
    --kv gemma3.attention.sliding_window_pattern=u32:2

echo "== extra tensors and keys that are not implemented: refused by name =="
refuse extra-tensor "blk.0.foo.weight" refuses $LLAMA --extra-tensor blk.0.foo.weight
refuse rope-freqs-qwen2 "rope_freqs.weight" refuses $QWEN2 --rope-freqs wide
refuse bias-o-qwen2 "blk.0.attn_output.bias" refuses $QWEN2 --bias-o
refuse rope-dim "rope.dimension_count" refuses $LLAMA --rope-dim 32
refuse unknown-key "llama.attention.layer_norm_epsilon" loads $LLAMA --kv llama.attention.layer_norm_epsilon=f32:0.001
refuse attn-scale "llama.attention.scale" loads $LLAMA --kv llama.attention.scale=f32:0.5
refuse longrope "longrope" loads $LLAMA --kv llama.rope.scaling.type=str:longrope
refuse moe "llama.expert_count" refuses $LLAMA --kv llama.expert_count=u32:8 --kv llama.expert_used_count=u32:2
refuse adapter "general.type" loads $LLAMA --kv general.type=str:adapter
refuse phi3-output-bias "output.bias" refuses $PHI3 --bias-out
refuse phi3-rope-freqs "rope_freqs.weight" refuses $PHI3 --rope-freqs wide
refuse gemma2-output "output.weight" refuses --arch gemma2 --vocab $SPM --layers 1 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --extra-tensor output.weight
refuse gemma3-swa-pattern-length "gemma3.attention.sliding_window_pattern" - $GEMMA3 --swa 8 --kv gemma3.attention.sliding_window_pattern=bools:1,0,1
refuse tok-key "tokenizer.ggml.add_sep_token" loads $LLAMA --kv tokenizer.ggml.add_sep_token=bool:true

echo "== pre-tokenizers that llama.cpp treats apart from llama3 =="
tok pre-smaug smaug-bpe
tok pre-dbrx dbrx
tok pre-llama3 llama-bpe

echo
[ $fails -eq 0 ] && echo "t_model_keys: all $n cases pass" || { echo "t_model_keys: $fails of $n cases FAIL"; exit 1; }
