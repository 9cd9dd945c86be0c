#!/usr/bin/env bash
# t_memplan.sh — the memory plan (src/engine/plan.c, `inspect --plan`) against the memory a real
# load takes (issue 9 item 3): on a make_model model, native peak RSS of `run --no-mmap` (weights
# read into memory) and wasm32 memory size in node after a generation that fills the context (so
# every KV page is touched) must be within 10% of the
# plan's total; with mmap RSS must not exceed the plan by more than 10% (untouched embedding rows
# stay out of RSS, so it may be lower).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SHARED=${CHORD_SHARED:-.}
VOCAB=$SHARED/vocab/ggml-vocab-llama-spm.gguf
[ -f "$VOCAB" ] || { echo "SKIP: $VOCAB not found (set CHORD_SHARED)"; exit 0; }
make -s BUILD="$BUILD" "$BUILD/wasm-chord" "$BUILD/make_model" >/dev/null || { echo "FAIL: build"; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
M=$TMP/plan-q8_0.gguf
"$BUILD/make_model" --vocab "$VOCAB" -o "$M" --layers 4 --embd 512 --ff 1536 --heads 8 --kv-heads 4 --type q8_0 -q ||
    { echo "FAIL: make_model"; exit 1; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
within() { # name actual plan lo hi: lo <= actual/plan <= hi
    python3 - "$@" <<'PY'
import sys
name, a, p, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
r = a / p
print(f"{'ok  ' if lo <= r <= hi else 'FAIL'} {name}: actual {a/2**20:.1f} MiB, plan {p/2**20:.1f} MiB, ratio {r:.3f} (allowed {lo}..{hi})")
sys.exit(0 if lo <= r <= hi else 1)
PY
}
for t in 1 2; do
    for ctx in 256 1024; do
        plan=$("$BUILD/wasm-chord" inspect --plan -m "$M" -c $ctx -t $t --no-mmap --json | field total) || { echo "FAIL: inspect --plan"; fail=1; continue; }
        rss=$("$BUILD/wasm-chord" run -m "$M" --tokens "1 2 3" -n -1 --ignore-eos --temp 0 -c $ctx -t $t --no-mmap --json | field peak_memory_bytes) ||
            { echo "FAIL: run"; fail=1; continue; }
        within "native --no-mmap -c $ctx -t $t" "$rss" "$plan" 0.9 1.1 || fail=1
        plan=$("$BUILD/wasm-chord" inspect --plan -m "$M" -c $ctx -t $t --json | field total)
        rss=$("$BUILD/wasm-chord" run -m "$M" --tokens "1 2 3" -n -1 --ignore-eos --temp 0 -c $ctx -t $t --json | field peak_memory_bytes)
        within "native mmap -c $ctx -t $t" "$rss" "$plan" 0.3 1.1 || fail=1
    done
done
if command -v node >/dev/null && [ -f "$BUILD/wasm/chord-wasm32.wasm" ]; then
    for ctx in 256 1024; do
        plan=$("$BUILD/wasm-chord" inspect --plan -m "$M" -c $ctx -t 1 --build wasm32 --json | field total)
        cat > "$TMP/load.mjs" <<JS
import { loadModel } from '$PWD/js/src/index.js';
const m = await loadModel('$M', { wasmBase: '$PWD/$BUILD/wasm/', threads: 1, nCtx: $ctx, build: 'wasm32' });
for await (const _ of m.generate([1, 2, 3], { maxTokens: $ctx - 3, temperature: 0, ignoreEos: true })) {}
console.log(JSON.stringify({ mem: m.lastGeneration.stats.peak_memory_bytes, plan: m.info.sizes.estimatedBytes }));
await m.dispose();
JS
        out=$(node "$TMP/load.mjs") || { echo "FAIL: node load"; fail=1; continue; }
        mem=$(echo "$out" | field mem); jsplan=$(echo "$out" | field plan)
        within "JS budget check (engine plan from the header) vs inspect --plan --build wasm32 -c $ctx" "$jsplan" "$plan" 0.98 1.02 || fail=1
        plan=$jsplan
        within "wasm32 memory -c $ctx" "$mem" "$plan" 0.9 1.1 || fail=1
    done
else
    echo "note: node or the wasm32 build missing: wasm part not run"
fi
[ $fail = 0 ] && echo "t_memplan: all passed" || echo "t_memplan: FAILED"
exit $fail
