#!/usr/bin/env bash
# bench/run.sh — `make bench`: prefill and decode tokens/s of wasm-chord vs llama.cpp on the same
# GGUF files (the TinyLlama-1.1B-shaped Q4_K_M and Q8_0 models from tools/make_model), with 1 and
# 2 threads; prints a table with ratios (ours / llama.cpp).
#
#   bench/run.sh [--models "tinyllama-q4_k_m tinyllama-q8_0"] [--threads "1 2"] [--prefill 64]
#                [--decode 64] [--reps 3] [--engines "llamacpp native"]
#
# Each engine is a shell function engine_<name> MODEL THREADS that prints one JSON object with
# prefill_tok_s and decode_tok_s; add an engine (a browser, another build) by adding a function
# and naming it in --engines. The first engine is the baseline of the ratios. Each engine reports
# the best of --reps runs for prefill and for decode (robust to other processes on the machine).
#  - llamacpp: build/oracle bench — the prebuilt llama.cpp from npm, in-process warm-up, then a
#    64-token prompt in one batch and 64 greedy decode steps (EOG excluded).
#  - native:   build/wasm-chord run --json (its own timings) on 64 prompt ids and 64 greedy
#    tokens with --ignore-eos; one untimed run first so that the file is in the page cache.
#  - base:     the same as native with another build's CLI (BASE_BIN=/path/to/wasm-chord, e.g. a
#    worktree of the previous commit): before/after of a change side by side in one run.
# Runs vary ±15% on a shared machine: compare within one run, as ratios.
# Opt-in big rows: --models "tinyllama-q4_k_m llama7b-q4_k_m" adds the Llama-2-7B-shaped Q4_K_M
# (4.1 GB; also llama7b-q8_0, 7.2 GB) from tests/lib/big_models.sh's cache, $CHORD_BIG_DIR
# (default $BUILD/models; made there once, 10-60 min, when missing). About 5 min per thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/parity/lib.sh
. tests/lib/big_models.sh

MODEL_LIST="tinyllama-q4_k_m tinyllama-q8_0"
THREADS="1 2"
N_PREFILL=64
N_DECODE=64
ENGINES="llamacpp native"
REPS=3
while [ $# -gt 0 ]; do
    case $1 in
        --models) MODEL_LIST=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --prefill) N_PREFILL=$2; shift ;;
        --decode) N_DECODE=$2; shift ;;
        --engines) ENGINES=$2; shift ;;
        --reps) REPS=$2; shift ;;
        -h|--help) sed -n 2,22p "$0"; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -f "$SPM" ] || { echo "bench: $SPM not found (set CHORD_SHARED)" >&2; exit 1; }
make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/oracle" "$BUILD/wasm-chord" "$BUILD/bench_kernels" >/dev/null

# A prompt of exactly N_PREFILL ids: a text tokenized by llama.cpp, repeated until long enough.
prompt_ids() {
    local ids=""
    local text="The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill."
    while [ "$(wc -w <<<"$ids")" -lt "$N_PREFILL" ]; do ids="$ids $("$BUILD/oracle" tokenize "$1" "$text" --no-bos)"; done
    echo "1 $ids" | tr -s ' ' '\n' | grep . | head -n "$N_PREFILL" | tr '\n' ' '
}

engine_llamacpp() {
    "$BUILD/oracle" bench "$1" -t "$2" --prefill "$N_PREFILL" --decode "$N_DECODE" -r "$REPS"
}

engine_native() {
    local ids
    ids=$(prompt_ids "$1")
    local run=("${NATIVE_BIN:-$BUILD/wasm-chord}" run -m "$1" --tokens "$ids" -t "$2" -c $((N_PREFILL + N_DECODE + 16))
               -b "$N_PREFILL" --temp 0 --ignore-eos --json)
    "${run[@]}" -n 1 >/dev/null
    for _ in $(seq "$REPS"); do "${run[@]}" -n "$N_DECODE"; echo; done | node -e '
        const runs = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l));
        const best = f => Math.max(...runs.map(j => j.timings[f]));
        console.log(JSON.stringify({ prefill_tok_s: best("prefill_tok_s"), decode_tok_s: best("decode_tok_s"),
                                     load_ms: Math.min(...runs.map(j => j.timings.load_ms)),
                                     peak_memory_bytes: Math.max(...runs.map(j => j.peak_memory_bytes)) }));'
}

engine_base() {
    [ -x "${BASE_BIN:-}" ] || { echo "engine base: set BASE_BIN to another build's wasm-chord"; return 1; }
    NATIVE_BIN=$BASE_BIN engine_native "$@"
}

RES=$(mktemp)
trap 'rm -f "$RES"' EXIT
for name in $MODEL_LIST; do
    if [ -n "$(big_model_args "$name")" ]; then model=$(big_model "$name"); else model=$(ensure_model "$name"); fi
    for t in $THREADS; do
        for e in $ENGINES; do
            if out=$("engine_$e" "$model" "$t" 2>&1 | tail -n 1) && [ "${out:0:1}" = "{" ]; then
                echo "{\"model\": \"$name\", \"bytes\": $(stat -c %s "$model"), \"threads\": $t, \"engine\": \"$e\", \"r\": $out}" >> "$RES"
            else
                echo "{\"model\": \"$name\", \"threads\": $t, \"engine\": \"$e\", \"error\": $(node -e 'console.log(JSON.stringify(process.argv[1]))' "$out")}" >> "$RES"
            fi
            echo "bench: $name t=$t $e: $(tail -n 1 "$RES")" >&2
        done
    done
done

# The machine's read bandwidth on 1 and 2 threads: a decode step streams every weight once, so
# file bytes x decode tok/s against it says how close a decode row is to the memory bound (and
# why 1 -> 2 threads cannot scale a weight-bound decode past 2t/1t bandwidth).
BW=$("$BUILD/bench_kernels" --bandwidth 2>/dev/null | tail -n 1)
[ "${BW:0:1}" = "{" ] || BW='{}'

echo
echo "Prefill $N_PREFILL tokens, then $N_DECODE greedy decode steps; tokens/s (ratio = engine / ${ENGINES%% *});"
echo "decode GB/s = GGUF file bytes x decode tok/s (the weights streamed per second)"
node - "$RES" "$ENGINES" "$BW" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => JSON.parse(l));
const engines = process.argv[3].split(/\s+/).filter(Boolean), base = engines[0];
const key = r => `${r.model} ${r.threads}`;
const byKey = new Map();
for (const r of rows) { if (!byKey.has(key(r))) byKey.set(key(r), {}); byKey.get(key(r))[r.engine] = r; }
const fmt = x => (typeof x === 'number' && isFinite(x)) ? x.toFixed(1) : '-';
const bw = JSON.parse(process.argv[4]);
const head = ['model', 'thr', 'engine', 'prefill tok/s', 'ratio', 'decode tok/s', 'ratio', 'decode GB/s'];
const body = [];
for (const [k, m] of byKey) {
    const b = m[base] && m[base].r;
    for (const e of engines) {
        const r = m[e];
        if (!r) continue;
        if (r.error) { body.push([r.model, String(r.threads), e, 'error: ' + r.error.slice(0, 60), '', '', '', '']); continue; }
        const ratio = f => b && b[f] ? (r.r[f] / b[f]).toFixed(2) : '-';
        body.push([r.model, String(r.threads), e, fmt(r.r.prefill_tok_s), e === base ? '1.00' : ratio('prefill_tok_s'),
                   fmt(r.r.decode_tok_s), e === base ? '1.00' : ratio('decode_tok_s'), fmt(r.bytes * r.r.decode_tok_s / 1e9)]);
    }
}
const w = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i].length)));
const line = c => '| ' + c.map((x, i) => x.padEnd(w[i])).join(' | ') + ' |';
console.log(line(head));
console.log('|' + w.map(x => '-'.repeat(x + 2)).join('|') + '|');
for (const b of body) console.log(line(b));
if (bw.read_gb_s_1t)
    console.log(`memory read bandwidth (bench_kernels --bandwidth): ${bw.read_gb_s_1t.toFixed(1)} GB/s on 1 thread, ` +
                `${bw.read_gb_s_2t.toFixed(1)} GB/s on 2 (${(bw.read_gb_s_2t / bw.read_gb_s_1t).toFixed(2)}x)`);
JS
