#!/usr/bin/env bash
# t_paged.sh — paged weights give the resident tokens (issue 10): stories260K and make_model
# models of every type, greedy, through `wasm-chord run`: resident vs --paged with every layer,
# half of them and 2 slots, pin vs --policy lru, prefetch 0/1, 1 and 2 threads natively, and the
# WASI CLI under node (1 thread, synchronous reads); make_model types get a cross-section. Also: run --json carries the cache object,
# --mem-budget too small is a clear nomem, inspect --plan shows the paged plan for a budget.
# CHORD_BIG=1 adds the 7B-shaped Q4_K_M check (cached in $CHORD_BIG_DIR, default $BUILD/models): --cache-layers 4
# -c 512 natively with peak RSS < 1 GiB, tokens equal to the resident run and to llama.cpp's.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SHARED=${CHORD_SHARED:-.}
STORIES=$SHARED/models/stories260K.gguf
VOCAB=$SHARED/vocab/ggml-vocab-llama-spm.gguf
[ -f "$STORIES" ] || { echo "SKIP: $STORIES not found (set CHORD_SHARED)"; exit 0; }
make -s BUILD="$BUILD" "$BUILD/wasm-chord" "$BUILD/make_model" >/dev/null || { echo "FAIL: build"; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
N=24
ids() { python3 -c 'import json,sys; print(" ".join(map(str, json.loads(sys.stdin.read().strip().splitlines()[-1])["tokens"])))'; }
layers() { "$BUILD/wasm-chord" inspect --plan -m "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["n_layer"])'; }

check_model() { # file label full: full = the whole matrix (stories260K), else a cross-section
    local m=$1 label=$2 full=$3 L half ref out j
    L=$(layers "$m"); half=$(( (L + 1) / 2 )); [ $half -lt 2 ] && half=2
    ref=$("$BUILD/wasm-chord" run -m "$m" --tokens "1 2 3" -n $N --temp 0 --ignore-eos -t 1 --resident --json | ids)
    [ -n "$ref" ] || { echo "FAIL $label: resident run"; fail=1; return; }
    local runs=()
    if [ "$full" = 1 ]; then
        for t in 1 2; do
            for c in "--cache-layers $L" "--cache-layers $half" "--cache-layers 2" "--cache-layers 2 --policy lru" \
                     "--cache-layers $half --policy lru" "--cache-layers $half --prefetch 0" "--cache-layers 2 --prefetch 2"; do
                runs+=("-t $t $c")
            done
        done
    else
        runs=("-t 1 --cache-layers $L" "-t 1 --cache-layers 2" "-t 2 --cache-layers $half --policy lru" "-t 2 --cache-layers 2 --prefetch 0")
    fi
    local n_ok=0 n=0
    for r in "${runs[@]}"; do
        n=$((n+1))
        out=$("$BUILD/wasm-chord" run -m "$m" --tokens "1 2 3" -n $N --temp 0 --ignore-eos --paged $r --json 2>/dev/null | ids)
        if [ "$out" = "$ref" ]; then n_ok=$((n_ok+1)); else echo "FAIL $label --paged $r: tokens differ"; fail=1; fi
    done
    if [ -n "$WASI" ]; then
        for c in "--cache-layers 2" "--cache-layers $half --policy lru"; do
            n=$((n+1))
            j=$(node tests/wasm/wasi_run.mjs "$WASI" run -m "$m" --tokens "1 2 3" -n $N --temp 0 --ignore-eos --paged $c --json 2>/dev/null | tail -1)
            out=$(echo "$j" | ids)
            # the run must really have been paged (a build without paging would ignore the flags)
            if [ "$out" = "$ref" ] && echo "$j" | grep -q '"policy": "paged'; then n_ok=$((n_ok+1))
            else echo "FAIL $label wasi --paged $c: tokens differ or not paged"; fail=1; fi
        done
    fi
    echo "$( [ $n_ok = $n ] && echo ok || echo FAIL) $label ($L layers): $n_ok/$n paged runs identical to resident ($N tokens)"
}

WASI=""
if command -v node >/dev/null && command -v clang-19 >/dev/null &&
   make -s BUILD="$BUILD" "$BUILD/wasm/wasm-chord-wasi.wasm" >/dev/null 2>&1; then WASI=$BUILD/wasm/wasm-chord-wasi.wasm
else echo "note: node or clang-19 missing: WASI runs skipped"; fi

check_model "$STORIES" stories260K 1
if [ -f "$VOCAB" ]; then
    for ty in f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k q4_k_m; do
        arch=llama; [ $ty = q8_0 ] || [ $ty = q4_k_m ] && arch=qwen2
        "$BUILD/make_model" --vocab "$VOCAB" -o "$TMP/m-$ty.gguf" --arch $arch --layers 4 --embd 256 --ff 512 \
            --heads 4 --kv-heads 2 --type $ty -q || { echo "FAIL: make_model $ty"; fail=1; continue; }
        check_model "$TMP/m-$ty.gguf" "make_model-$arch-$ty" 0
        rm -f "$TMP/m-$ty.gguf"
    done
else
    echo "note: $VOCAB missing: make_model models skipped"
fi

# --json cache object and the stderr summary
"$BUILD/wasm-chord" run -m "$STORIES" -n 8 --temp 0 --paged --cache-layers 3 --prefetch 0 --json > "$TMP/j.json" 2> "$TMP/j.err"
python3 - "$TMP/j.json" <<'PY' && echo "ok   run --json cache object (3 slots, 2 pinned, hits = 2 x passes)" || { echo "FAIL: cache object"; fail=1; }
import json, sys
c = json.load(open(sys.argv[1]))["cache"]
for k in ("slots", "pinned", "hits", "misses", "evictions", "bytes_read", "read_ms", "stall_ms", "prefetch_hits"): assert k in c, k
passes = (c["hits"] + c["misses"] + c["prefetch_hits"]) // 5
assert c["slots"] == 3 and c["pinned"] == 2 and c["hits"] == 2 * (passes - 1), c
PY
grep -q "^wasm-chord: cache paged-pin: 3 slots (2 pinned) of 5 layers" "$TMP/j.err" && echo "ok   stderr summary" || { echo "FAIL: stderr summary"; cat "$TMP/j.err"; fail=1; }
# too small a budget: nomem naming the numbers, before loading
if "$BUILD/wasm-chord" run -m "$STORIES" -n 4 --mem-budget 100K 2> "$TMP/e.err" >/dev/null; then echo "FAIL: tiny budget accepted"; fail=1
elif grep -q "budget of 0.1 MiB even paged: model-wide tensors .* KV cache" "$TMP/e.err"; then echo "ok   --mem-budget 100K: $(head -c 160 "$TMP/e.err")..."
else echo "FAIL: tiny budget message"; cat "$TMP/e.err"; fail=1; fi
out=$("$BUILD/wasm-chord" inspect --plan -m "$STORIES" --mem-budget 3.3M -c 256 -t 1)
echo "$out" | grep -q "paged" && echo "ok   inspect --plan --mem-budget 3.3M picks paged" || { echo "FAIL: inspect --plan"; echo "$out"; fail=1; }

if [ "${CHORD_BIG:-0}" = 1 ] && [ -f "$VOCAB" ]; then
    # the shared big-model cache (tests/lib/big_models.sh: $CHORD_BIG_DIR, default $BUILD/models)
    BIG=$(. tests/lib/big_models.sh && big_model llama7b-q4_k_m) || { echo "FAIL: make_model 7B"; exit 1; }
    "$BUILD/wasm-chord" run -m "$BIG" --tokens "1 450 4996" -n 8 --temp 0 --ignore-eos -c 512 -t 2 --paged --cache-layers 4 --json > "$TMP/big.json" 2> "$TMP/big.err" ||
        { echo "FAIL: 7B paged run"; cat "$TMP/big.err"; fail=1; }
    cat "$TMP/big.err"
    python3 - "$TMP/big.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
rss = j["peak_memory_bytes"]
print(f"{'ok  ' if rss < 2**30 else 'FAIL'} 7B Q4_K_M --cache-layers 4 -c 512: peak RSS {rss/2**20:.0f} MiB (< 1024), tokens {j['tokens']}")
sys.exit(0 if rss < 2**30 else 1)
PY
    ref=$("$BUILD/wasm-chord" run -m "$BIG" --tokens "1 450 4996" -n 8 --temp 0 --ignore-eos -c 512 -t 2 --resident --json | ids)
    [ "$ref" = "$(ids < "$TMP/big.json")" ] && echo "ok   7B paged tokens = resident tokens" || { echo "FAIL: 7B tokens differ"; fail=1; }
    # llama.cpp's greedy tokens on the same file (tools/oracle; built by make oracle)
    if [ -x "$BUILD/oracle" ]; then
        lc=$("$BUILD/oracle" generate "$BIG" --tokens "1 450 4996" -n 8 -t 2 2>/dev/null | ids)
        [ -n "$lc" ] && [ "$lc" = "$(ids < "$TMP/big.json")" ] && echo "ok   7B paged tokens = llama.cpp's ($lc)" ||
            { echo "FAIL: 7B paged tokens differ from llama.cpp's ($lc)"; fail=1; }
    else
        echo "note: $BUILD/oracle not built: llama.cpp comparison skipped"
    fi
fi
[ $fail = 0 ] && echo "t_paged: all passed" || echo "t_paged: FAILED"
exit $fail
