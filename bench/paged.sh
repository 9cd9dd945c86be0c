#!/usr/bin/env bash
# bench/paged.sh — `make bench-paged`: resident vs paged weights (issue 10) on the TinyLlama-shaped
# Q4_K_M (and the 7B-shaped Q4_K_M when $BUILD/models/llama7b-q4_k_m.gguf exists or CHORD_BIG=1):
# decode tok/s, peak RSS, hit rate, MiB read per token and stall ms per token, for resident, paged
# with every layer, half of them and 4 slots (pin+stream and LRU). The file is read once first so
# it sits in the page cache, and the page-cache read bandwidth is measured in the same run: the
# bound a streaming configuration can reach is min(resident decode, bandwidth / streamed bytes per
# token). Numbers depend on what else runs on the machine: say so when quoting them.
#   bench/paged.sh [--threads N] [--decode N] [--models "tinyllama-q4_k_m"]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/parity/lib.sh
THREADS=2
N_DECODE=32
MODEL_LIST="tinyllama-q4_k_m"
while [ $# -gt 0 ]; do
    case $1 in
        --threads) THREADS=$2; shift ;;
        --decode) N_DECODE=$2; shift ;;
        --models) MODEL_LIST=$2; shift ;;
        -h|--help) sed -n 2,10p "$0"; exit 0 ;;
        *) echo "bench-paged: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
make -s BUILD="$BUILD" "$BUILD/make_model" "$BUILD/wasm-chord" >/dev/null || exit 1
files=()
for name in $MODEL_LIST; do files+=("$(ensure_model "$name")") || exit 1; done
BIG=$BUILD/models/llama7b-q4_k_m.gguf
if [ "${CHORD_BIG:-0}" = 1 ] && [ ! -f "$BIG" ]; then
    "$BUILD/make_model" --vocab "$SPM" -o "$BIG.tmp" --layers 32 --embd 4096 --ff 11008 --heads 32 --ctx 4096 \
        --type q4_k_m -q && mv "$BIG.tmp" "$BIG"
fi
[ -f "$BIG" ] && files+=("$BIG")

printf '| model | weights | decode tok/s | peak RSS MiB | hit rate | MiB read/token | stall ms/token | vs bound |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for f in "${files[@]}"; do
    L=$("$BUILD/wasm-chord" inspect --plan -m "$f" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["n_layer"])')
    half=$(( L / 2 ))
    # warm the page cache and measure its read bandwidth (MiB/s)
    cat "$f" > /dev/null
    bw=$(python3 - "$f" <<'PY'
import sys, time
t = time.perf_counter(); n = 0
buf = bytearray(64 << 20)
with open(sys.argv[1], 'rb', buffering=0) as fh:
    while True:
        k = fh.readinto(buf)
        if not k: break
        n += k
print(f"{n / (time.perf_counter() - t) / 2**20:.0f}")
PY
)
    res_tps=""
    for cfg in "--resident" "--paged --cache-layers $L --preload" "--paged --cache-layers $half" "--paged --cache-layers $half --policy lru" \
               "--paged --cache-layers 4" "--paged --cache-layers 4 --policy lru"; do
        j=$("$BUILD/wasm-chord" run -m "$f" --tokens "1 450 4996 338" -n "$N_DECODE" --temp 0 --ignore-eos -c 256 \
             -t "$THREADS" $cfg --json 2>/dev/null) || { echo "| $(basename "$f") | $cfg | failed | | | | | |"; continue; }
        python3 - "$j" "$(basename "$f" .gguf)" "$cfg" "$N_DECODE" "$bw" "${res_tps:-0}" <<'PY'
import json, sys
j = json.loads(sys.argv[1]); name, cfg, n, bw, res = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
c = j["cache"]; tps = j["timings"]["decode_tok_s"]
acq = c["hits"] + c["misses"] + c["prefetch_hits"]
passes = max(1, n + 1)  # forward passes: the prompt batch + one per generated token
mib_tok = c["bytes_read"] / 2**20 / passes
stall = c["stall_ms"] / passes
bound = min(res or tps, bw / mib_tok) if mib_tok > 0 else (res or tps)
print(f"| {name} | {cfg.replace('--', '').replace('cache-layers', 'slots')} | {tps:.2f} | {j['peak_memory_bytes']/2**20:.0f} | "
      f"{100*c['hits']/acq if acq else 100:.0f}% | {mib_tok:.1f} | {stall:.1f} | {tps/bound if bound else 0:.2f} |")
PY
        [ "$cfg" = "--resident" ] && res_tps=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["timings"]["decode_tok_s"])')
    done
    echo "| $(basename "$f" .gguf) | page-cache read bandwidth | $bw MiB/s | | | | | |"
done
