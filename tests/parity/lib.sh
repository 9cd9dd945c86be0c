# tests/parity/lib.sh — sourced by tests/t_parity.sh and bench/run.sh: the synthetic models the
# parity test and the benchmark run on, made by tools/make_model into $BUILD/models/ and cached.
# A model is remade only when its arguments or what decides its bytes change: NAME.gguf.stamp holds
# model_stamp's md5 of both (below). Kernel edits keep the cache: make_model never runs a kernel.
SHARED=${CHORD_SHARED:-.}
SPM=$SHARED/vocab/ggml-vocab-llama-spm.gguf
GPT2=$SHARED/vocab/ggml-vocab-gpt-2.gguf
MODELS=${MODELS:-$BUILD/models}
# Tiny: width >= 256 so every K-quant block (256 wide) is exercised, head size 64, GQA 2:1.
TINY_SHAPE="--vocab $SPM --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512"
TINY_TYPES="f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k q4_k_m"
# Qwen2-shaped: biases on q/k/v, NeoX RoPE, theta 1e6, a byte-level BPE vocabulary (GPT-2's).
QWEN2_SHAPE="--arch qwen2 --vocab $GPT2 --layers 6 --embd 512 --ff 1536 --heads 8 --kv-heads 2 --ctx 1024"
# Llama-3.2-shaped in small: Llama 3's BPE vocabulary (128256 tokens), theta 500000, GQA, and
# rope_freqs.weight with Llama 3.1's frequency factors (tied and untied heads).
BPE=$SHARED/vocab/ggml-vocab-llama-bpe.gguf
LLAMA3_SHAPE="--vocab $BPE --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --rope-theta 500000 --rope-freqs llama3"
# Qwen3-shaped: per-head q/k RMSNorm, no biases, head size 128 wider than embd/heads (key_length).
QWEN3_SHAPE="--arch qwen3 --vocab $GPT2 --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --head-dim 128 --ctx 512"
# Phi-3-shaped: fused attn_qkv and [gate | up] ffn_up, q pre-scaled; Phi-3's SPM vocabulary from
# llama.cpp's test vocabularies (its special tokens get RSTRIP like llama.cpp's "phi3" names).
PHI3_VOCAB=${PHI3_VOCAB:-$BUILD/llama.cpp-src/models/ggml-vocab-phi-3.gguf}
PHI3_SHAPE="--arch phi3 --vocab $PHI3_VOCAB --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512"
# Phi-3-128k-shaped: the same (matrices std 0.05, so positions move the tokens: serving the short
# factors instead fails every row) with rope_factors_long/short.weight and an original context of 128,
# below the 256 llama.cpp allocates for the test (so the long factors apply), and Phi-3's
# attention factor sqrt(1 + ln(scale) / ln(original context)) for scale 4.
PHI3LONG_SHAPE="$PHI3_SHAPE --wstd 0.05 --rope-factors --kv phi3.rope.scaling.original_context_length=u32:128 --kv phi3.rope.scaling.attn_factor=f32:1.1339"
# Gemma-2-shaped: embeddings × sqrt(n_embd), GeGLU, post-norms, soft-capping (50 / 30), tied head,
# and a sliding window of 8 on the even layers so that the window is exercised by the prompt;
# --wstd 0.1 keeps the tied random network from echoing its last input token.
GEMMA2_SHAPE="--arch gemma2 --vocab $SPM --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --wstd 0.1 --swa 8"
# Gemma-3-shaped: gemma2's block without attention soft-capping, plus per-head q/k RMSNorm; 6
# layers so that the default pattern gives five sliding-window layers (window 8, shorter than the
# prompt, RoPE base 10000) and one global layer (base 1e6, linear RoPE scaling ×8 as the 4B+
# models have, which llama.cpp applies to global layers only); tied head as Gemma 3 ships.
GEMMA3_SHAPE="--arch gemma3 --vocab $SPM --layers 6 --embd 256 --ff 512 --heads 4 --kv-heads 2 --ctx 512 --wstd 0.1 --swa 8 --tied --kv gemma3.rope.scaling.type=str:linear --kv gemma3.rope.scaling.factor=f32:8"
# TinyLlama-1.1B-shaped (same arguments as bench/browser_bench.mjs, so they share the files).
TINYLLAMA_SHAPE="--vocab $SPM --layers 22 --embd 2048 --ff 5632 --heads 32 --kv-heads 4 --ctx 2048"

# model_args NAME: make_model arguments of a named model (empty when the name is unknown).
model_args() {
    case $1 in
        tiny-*)        echo "$TINY_SHAPE --type ${1#tiny-}" ;;
        qwen2-tied-*)  echo "$QWEN2_SHAPE --tied --type ${1#qwen2-tied-}" ;;
        qwen2-*)       echo "$QWEN2_SHAPE --type ${1#qwen2-}" ;;
        llama3-tied-*) echo "$LLAMA3_SHAPE --tied --type ${1#llama3-tied-}" ;;
        llama3-*)      echo "$LLAMA3_SHAPE --type ${1#llama3-}" ;;
        qwen3-tied-*)  echo "$QWEN3_SHAPE --tied --type ${1#qwen3-tied-}" ;;
        phi3-*)        echo "$PHI3_SHAPE --type ${1#phi3-}" ;;
        phi3long-*)    echo "$PHI3LONG_SHAPE --type ${1#phi3long-}" ;;
        gemma2-*)      echo "$GEMMA2_SHAPE --type ${1#gemma2-}" ;;
        gemma3-*)      echo "$GEMMA3_SHAPE --type ${1#gemma3-}" ;;
        qwen3-*)       echo "$QWEN3_SHAPE --type ${1#qwen3-}" ;;
        tinyllama-*)   echo "$TINYLLAMA_SHAPE --type ${1#tinyllama-} --name tinyllama-shaped-${1#tinyllama-}" ;;
    esac
}

# The sources that decide a model file's bytes, traced from what make_model runs: make_model.c and
# synth/ (which tensors, their random values, the Q4_K_M mixture), the GGUF writer (layout,
# alignment), and the reference quantizers with their block layouts — make_model quantizes with
# traits.from_float_ref only (see its header), so the SIMD kernels (avx2.c, vnni.c, x86*.h,
# simd128*), their declarations (kernels.h) and the run-time dispatch never touch a file.
# What else a quantizer depends on (the traits table and the fp16/bf16 conversion in traits.c,
# shared with the dispatch code) is covered by its behaviour instead: make_model --quant-probe
# prints what every quantizer writes for fixed rows. tests/t_model_cache.sh checks both ways.
MODEL_SOURCES="tools/make_model.c tools/synth/*.c tools/synth/*.h src/gguf/write.c src/gguf/gguf.h \
    src/quant/ref.c src/quant/ref_k.c src/quant/blocks.h"

# model_stamp ARGS...: the cache key of a model made with these make_model arguments: the md5 of
# the sources above, the quantizer probe, the files the arguments name (the vocabulary) and the
# arguments themselves.
model_stamp() {
    local src probe a
    # shellcheck disable=SC2086
    src=$(cat $MODEL_SOURCES | md5sum; exit "${PIPESTATUS[0]}") \
        || { echo "model_stamp: a source of the model files is missing (MODEL_SOURCES)" >&2; return 1; }
    probe=$("$BUILD/make_model" --quant-probe | md5sum; exit "${PIPESTATUS[0]}") \
        || { echo "model_stamp: $BUILD/make_model --quant-probe failed" >&2; return 1; }
    { echo "sources $src"
      echo "quant-probe $probe"
      for a in "$@"; do [ -f "$a" ] && md5sum < "$a"; done
      echo "$*"; } | md5sum | cut -c1-32
}

# ensure_model NAME: prints the path of $MODELS/NAME.gguf, making it first if needed.
ensure_model() {
    local name=$1 args f stamp
    args=$(model_args "$name")
    [ -n "$args" ] || { echo "ensure_model: unknown model '$name'" >&2; return 1; }
    f=$MODELS/$name.gguf
    # shellcheck disable=SC2086
    stamp=$(model_stamp $args) || return 1
    if [ ! -f "$f" ] || [ "$(cat "$f.stamp" 2>/dev/null)" != "$stamp" ]; then
        mkdir -p "$MODELS"
        rm -f "$f" "$f.stamp"
        local t0=$SECONDS
        # shellcheck disable=SC2086
        "$BUILD/make_model" -q $args -o "$f" >&2 || return 1
        echo "$stamp" > "$f.stamp"
        echo "made $f ($((SECONDS - t0)) s)" >&2
    fi
    echo "$f"
}
