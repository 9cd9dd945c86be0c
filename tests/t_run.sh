#!/usr/bin/env bash
# t_run.sh — the `wasm-chord run` contract on the real stories260K model: --json prints one
# parseable object with the documented fields and the greedy story; bad input (token out of
# range, prompt longer than the context, bad sampler values, unknown flag, missing file) exits
# non-zero with a one-line error; numbers are parsed whole and in range (exit 2 otherwise);
# -f FILE reads the prompt from a file; --no-mmap gives the same tokens; --help exits 0; -n -1 stops cleanly at a full context (the
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
# Numbers are checked whole and in range (they used to truncate: -c 4294967297 became 1).
bad "-c beyond 32 bits" "bad value '4294967297' for -c" -m "$M" -c 4294967297
bad "-n beyond 32 bits" "bad value '4294967296' for -n" -m "$M" -n 4294967296
bad "-n below -1" "bad value '-2' for -n" -m "$M" -n -2
bad "negative -c" "bad value '-1' for -c" -m "$M" -c -1
bad "garbage -t" "bad value '2x' for -t" -m "$M" -t 2x
bad "-b 0" "bad value '0' for -b" -m "$M" -b 0
bad "negative seed" "bad value '-1' for -s" -m "$M" -s -1
bad "empty -n" "bad value '' for -n" -m "$M" -n ""
bad "temperature overflow" "bad value '1e99' for --temp" -m "$M" --temp 1e99
bad "missing prompt file" "cannot read the prompt file" -m "$M" -f /nonexistent.txt
bad "-p and -f together" "only one of" -m "$M" -p hi -f /dev/null
for a in "-c 4294967297" "-n 4294967296" "-n -2"; do
    "$W" run -m "$M" $a >/dev/null 2>&1; rc=$?
    check "exit 2 for $a" '[ $rc = 2 ]'
done
pf=$(mktemp); printf 'Once upon' >"$pf"
fromfile=$("$W" run -m "$M" -f "$pf" -n 5 --temp 0 --json)
fromarg=$("$W" run -m "$M" -p "Once upon" -n 5 --temp 0 --json)
check "-f FILE is the prompt" 'node -e "const a=JSON.parse(process.argv[1]), b=JSON.parse(process.argv[2]); process.exit(a.prompt_tokens.join()===b.prompt_tokens.join() && a.tokens.join()===b.tokens.join() && a.prompt_tokens.length===3 ? 0 : 1)" "$fromfile" "$fromarg"'
nomm=$("$W" run -m "$M" --no-mmap -p "Once upon" -n 5 --temp 0 --json)
check "--no-mmap gives the same tokens" 'node -e "process.exit(JSON.parse(process.argv[1]).tokens.join()===JSON.parse(process.argv[2]).tokens.join()?0:1)" "$nomm" "$fromarg"'
rm -f "$pf"
"$W" run --help | grep -q -- "--repeat-penalty"
check "--help" '[ $? = 0 ]'
full=$("$W" run -m "$M" -n -1 -c 32 --temp 0 --json)
check "-n -1 fills the context and exits 0" '[ $? = 0 ] && node -e "process.exit(JSON.parse(process.argv[1]).tokens.length===32?0:1)" "$full"'
[ $fails = 0 ] && echo "t_run: all passed" || { echo "t_run: $fails FAILED"; exit 1; }
