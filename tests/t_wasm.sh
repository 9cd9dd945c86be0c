#!/usr/bin/env bash
# t_wasm.sh — the WebAssembly builds against the native one (issue 5): builds `make wasm`, runs
# the node --test suite tests/wasm/ (every build × 1/2 threads gives the native token ids on
# stories260K, the WASI CLI under node:wasi too, 20 loads do not grow memory, errors, simd128
# kernels vs the scalar reference), then prints the cross-target token table, also for small
# make_model models in Q4_K_M and Q8_0 when build/make_model exists.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
W=$BUILD/wasm
SHARED=${CHORD_SHARED:-.}
MODEL=$SHARED/models/stories260K.gguf
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 0; }
command -v clang-19 >/dev/null || { echo "SKIP: clang-19 not installed (scripts/setup.sh installs it)"; exit 0; }
make -s BUILD="$BUILD" wasm > "${TMPDIR:-/tmp}/t_wasm_make.$$.log" 2>&1 || { cat "${TMPDIR:-/tmp}/t_wasm_make.$$.log"; echo "FAIL: make wasm"; exit 1; }
rm -f "${TMPDIR:-/tmp}/t_wasm_make.$$.log"
ls -l $W/*.wasm | awk '{printf "  %-45s %8d bytes\n", $9, $5}'
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not found (set CHORD_SHARED)"; exit 0; }
make -s BUILD="$BUILD" "$BUILD/wasm-chord" >/dev/null || { echo "FAIL: make $BUILD/wasm-chord"; exit 1; }  # always: a stale native binary gives false DIFFERS rows
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
N=64
"$BUILD/wasm-chord" run -m "$MODEL" -p "" -n $N --temp 0 -t 1 --json > "$TMP/native.json" || { echo "FAIL: native run"; exit 1; }

fail=0
CHORD_WASM_DIR="$W" CHORD_MODEL="$MODEL" CHORD_NATIVE_JSON="$TMP/native.json" CHORD_N=$N \
    node --test tests/wasm/ > "$TMP/test.log" 2>&1 || { cat "$TMP/test.log"; fail=1; }
grep -E "^# (pass|fail)" "$TMP/test.log"

# Cross-target table: model × target × threads → identical / first divergence.
ids() { python3 -c 'import json,sys; print(" ".join(map(str, json.loads(sys.stdin.read().strip().splitlines()[-1])["tokens"])))'; }
table_row() { # model label
    local m=$1 label=$2 ref out i
    ref=$("$BUILD/wasm-chord" run -m "$m" -p "$PROMPT" -n $N --temp 0 -t 1 --json | ids)
    printf "%-22s native-1t %3d tokens (reference)\n" "$label" "$(wc -w <<<"$ref")"
    for t in 2; do
        out=$("$BUILD/wasm-chord" run -m "$m" -p "$PROMPT" -n $N --temp 0 -t $t --json | ids)
        compare "$label" "native-${t}t" "$ref" "$out"
    done
    for b in chord-wasm32.wasm chord-wasm64.wasm chord-wasm32-relaxed.wasm chord-wasm64-relaxed.wasm; do  # relaxed: Node 20 behind a V8 flag core.js sets
        for t in 1 2; do
            flag=""; [[ $b == *wasm64* ]] && flag=--experimental-wasm-memory64
            out=$(node $flag tests/wasm/run_engine.mjs "$W/$b" "$m" $t $N "$PROMPT" | ids)
            compare "$label" "${b%.wasm}-${t}t" "$ref" "$out"
        done
    done
    out=$(node tests/wasm/wasi_run.mjs "$W/wasm-chord-wasi.wasm" run -m "$m" -p "$PROMPT" -n $N --temp 0 --json | ids)
    compare "$label" "wasi-1t" "$ref" "$out"
    # headless Chromium (when playwright-core and /usr/bin/chromium are installed): every engine
    # build incl. relaxed SIMD, 1 and 2 threads; plus the kernel modules vs the scalar reference
    if [ -x /usr/bin/chromium ] && [ -d node_modules/playwright-core ]; then
        timeout 600 node tests/wasm/chromium_check.mjs "$W" "$m" $N "$PROMPT" > "$TMP/chr.json" 2>"$TMP/chr.err" || { echo "FAIL: chromium_check"; cat "$TMP/chr.err"; fail=1; return; }
        while read -r name toks; do
            if [ "${toks#ERR}" != "$toks" ]; then printf "%-22s %-34s %s\n" "$label" "chromium-$name" "$toks"; fail=1
            else compare "$label" "chromium-$name" "$ref" "$toks"; fi
        done < <(python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
for k,v in r.get("kernels",{}).items():
    if v.get("failures",1) or "error" in v: print("kernels-"+k, "ERROR", json.dumps(v))
for k,v in r.get("tokens",{}).items():
    print(k.replace(".wasm",""), " ".join(map(str,v)) if isinstance(v,list) else "ERROR "+str(v))' "$TMP/chr.json")
    fi
}
compare() {
    local a=($3) b=($4) i
    for ((i = 0; i < ${#a[@]} || i < ${#b[@]}; i++)); do
        if [ "${a[i]:-}" != "${b[i]:-}" ]; then
            printf "%-22s %-34s DIFFERS at token %d\n" "$1" "$2" "$i"; fail=1; return
        fi
    done
    printf "%-22s %-34s identical (%d tokens)\n" "$1" "$2" "${#a[@]}"
}
PROMPT=""
echo "== token table (greedy, $N tokens)"
table_row "$MODEL" stories260K
if [ -x "$BUILD/make_model" ] && [ -f "$SHARED/vocab/ggml-vocab-llama-spm.gguf" ]; then
    PROMPT="The quick brown fox"
    for ty in q4_k_m q8_0; do
        "$BUILD/make_model" --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -o "$TMP/m-$ty.gguf" \
            --layers 2 --embd 256 --ff 768 --heads 4 --kv-heads 2 --type $ty -q || { echo "FAIL: make_model $ty"; fail=1; continue; }
        table_row "$TMP/m-$ty.gguf" "make_model-$ty"
    done
    # the ops of issue 8's families: rope_freqs (wide factors) + YaRN + attn_output/FFN biases;
    # qwen3's per-head q/k norms with a head wider than embd/heads; gemma2, gemma3, phi3 below
    "$BUILD/make_model" --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -o "$TMP/m-llama3x.gguf" -q \
        --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --rope-theta 500000 --wstd 0.1 --type q8_0 \
        --rope-freqs wide --bias-o --bias-ffn --kv llama.rope.scaling.type=str:yarn --kv llama.rope.scaling.factor=f32:4 \
        && table_row "$TMP/m-llama3x.gguf" "llama-ropefreqs-yarn" || { echo "FAIL: make_model llama3x"; fail=1; }
    "$BUILD/make_model" --arch qwen3 --vocab "$SHARED/vocab/ggml-vocab-gpt-2.gguf" -o "$TMP/m-qwen3.gguf" -q \
        --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --head-dim 128 --type q4_k_m \
        && table_row "$TMP/m-qwen3.gguf" "qwen3-q4_k_m" || { echo "FAIL: make_model qwen3"; fail=1; }
    "$BUILD/make_model" --arch gemma2 --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -o "$TMP/m-gemma2.gguf" -q \
        --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --wstd 0.1 --swa 8 --type q8_0 \
        && table_row "$TMP/m-gemma2.gguf" "gemma2-q8_0" || { echo "FAIL: make_model gemma2"; fail=1; }
    # gemma3: q/k norms, five sliding-window layers (window 8 < prompt + generation, RoPE base
    # 10000) and a global one with linear RoPE scaling
    "$BUILD/make_model" --arch gemma3 --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -o "$TMP/m-gemma3.gguf" -q \
        --layers 6 --embd 256 --ff 512 --heads 4 --kv-heads 2 --wstd 0.1 --swa 8 --tied --type q4_k_m \
        --kv gemma3.rope.scaling.type=str:linear --kv gemma3.rope.scaling.factor=f32:8 \
        && table_row "$TMP/m-gemma3.gguf" "gemma3-q4_k_m" || { echo "FAIL: make_model gemma3"; fail=1; }
    # phi3 with its long-context RoPE factors (original context 128 < any context used here: long)
    if [ -f "$BUILD/llama.cpp-src/models/ggml-vocab-phi-3.gguf" ]; then
        "$BUILD/make_model" --arch phi3 --vocab "$BUILD/llama.cpp-src/models/ggml-vocab-phi-3.gguf" -o "$TMP/m-phi3.gguf" -q \
            --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --wstd 0.05 --type q8_0 --rope-factors \
            --kv phi3.rope.scaling.original_context_length=u32:128 --kv phi3.rope.scaling.attn_factor=f32:1.1339 \
            && table_row "$TMP/m-phi3.gguf" "phi3-longrope-q8_0" || { echo "FAIL: make_model phi3"; fail=1; }
    fi
fi
# TinyLlama-shaped models (22 layers, 2048 wide, 32000 vocab; ~0.7/1.2 GB, minutes to make
# and run): only with CHORD_WASM_BIG=1, or on models given as CHORD_WASM_BIG_MODELS="a.gguf b.gguf".
if [ -n "${CHORD_WASM_BIG_MODELS:-}" ] || { [ "${CHORD_WASM_BIG:-0}" = 1 ] && [ -x "$BUILD/make_model" ]; }; then
    PROMPT="The quick brown fox"
    N=32
    big=${CHORD_WASM_BIG_MODELS:-}
    if [ -z "$big" ]; then
        for ty in q4_k_m q8_0; do
            "$BUILD/make_model" --vocab "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -o "$TMP/tl-$ty.gguf" --layers 22 \
                --embd 2048 --ff 5632 --heads 32 --kv-heads 4 --type $ty -q && big="$big $TMP/tl-$ty.gguf"
        done
    fi
    for m in $big; do table_row "$m" "$(basename "$m" .gguf)"; done
fi
exit $fail
