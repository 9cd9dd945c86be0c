#!/usr/bin/env bash
# t_run.sh — the `wasm-chord run` contract on the real stories260K model: --json prints one
# parseable object with the documented fields and the greedy story; bad input (token out of
# range, prompt longer than the context, bad sampler values, unknown flag, missing file) exits
# non-zero with a one-line error; --help exits 0; -n -1 stops cleanly at a full context (the
# last token is still sampled and shown, it just cannot be appended).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
W=$BUILD/wasm-chord
M=${CHORD_SHARED:-.}/models/stories260K.gguf
[ -f "$M" ] || { echo "SKIP: $M not found (set CHORD_SHARED)"; exit 0; }
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

out=$("$W" run -m "$M" -n 24 --temp 0 --json --logits-top 3)
check "--json exit 0" '[ $? = 0 ]'
check "--json is one object with the fields" 'node -e "
const o = JSON.parse(process.argv[1]);
const ok = Array.isArray(o.prompt_tokens) && o.prompt_tokens[0] === 1 && o.tokens.length === 24 &&
  o.text.trim().startsWith(\"Once upon a time, there was a little girl named Lily\") &&
  o.timings.load_ms >= 0 && o.timings.prefill_tok_s > 0 && o.timings.decode_tok_s > 0 &&
  o.peak_memory_bytes > 0 && o.first_top_logits.length === 3 && o.first_top_logits[0][0] === o.tokens[0];
process.exit(ok ? 0 : 1);" "$out"'
tok=$("$W" run -m "$M" --tokens "1 403" -n 3 --temp 0 --json)
check "--tokens is used as given" 'node -e "const o=JSON.parse(process.argv[1]); process.exit(o.prompt_tokens.join()===\"1,403\" && o.tokens[0]===407 ? 0 : 1)" "$tok"'

bad() { # name, expected message part, args...
    local name=$1 want=$2; shift 2
    local err rc
    err=$("$W" run "$@" 2>&1 >/dev/null); rc=$?
    check "$name → exit $rc, '$err'" '[ $rc -ne 0 ] && [ $(printf "%s\n" "$err" | wc -l) = 1 ] && grep -q -- "$want" <<<"$err"'
}
bad "token out of range" "outside the vocabulary" -m "$M" --tokens "1 512"
bad "prompt longer than the context" "do not fit in the context" -m "$M" -c 4 -p "Once upon a time there was"
bad "negative temperature" "temperature" -m "$M" --temp -1
bad "top-p outside (0,1]" "top_p" -m "$M" --top-p 1.5
bad "NaN min-p" "min_p" -m "$M" --min-p nan
bad "unknown flag" "unknown option" -m "$M" --bogus 1
bad "missing file" "cannot open" -m /nonexistent.gguf
bad "no model" "-m FILE" -p hi
"$W" run --help | grep -q -- "--repeat-penalty"
check "--help" '[ $? = 0 ]'
full=$("$W" run -m "$M" -n -1 -c 32 --temp 0 --json)
check "-n -1 fills the context and exits 0" '[ $? = 0 ] && node -e "process.exit(JSON.parse(process.argv[1]).tokens.length===32?0:1)" "$full"'
[ $fails = 0 ] && echo "t_run: all passed" || { echo "t_run: $fails FAILED"; exit 1; }
