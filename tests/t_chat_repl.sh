#!/usr/bin/env bash
# t_chat_repl.sh — `wasm-chord chat` driven under tmux as a person would use it, on stories260K
# with a ChatML template: two turns whose greedy answers equal `wasm-chord run` on jinja2's
# rendering of the conversation so far; the second turn prefills only its new tokens (/stats:
# reused > 0); Ctrl-C mid-answer stops the answer and not the program; Ctrl-C at the prompt
# only hints; /reset empties the context; Ctrl-D leaves with exit 0 and writes the history.
# Piped (no terminal): a message beyond the context is refused with a clear message.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
W=$(pwd)/$BUILD/wasm-chord
M=${CHORD_SHARED:-.}/models/stories260K.gguf
TPL=$(pwd)/tests/data/chat/chatml.jinja
[ -f "$M" ] || { echo "SKIP: $M not found (set CHORD_SHARED)"; exit 0; }
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed (make setup)"; exit 0; }
python3 -c "import jinja2" 2>/dev/null || { echo "SKIP: python3-jinja2 is missing (make setup)"; exit 0; }
M=$(cd "$(dirname "$M")" && pwd)/$(basename "$M")
T=$(mktemp -d)
S=chord-repl-$$
SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
cleanup() { tm kill-server 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

pane() { tm capture-pane -p -J -S -1000 -t "$S"; }
# wait until PATTERN occurs at least N times in the pane (bounded: 20 s)
wait_for() {
    local pat=$1 n=${2:-1}
    for _ in $(seq 400); do
        [ "$(pane | grep -cF -- "$pat")" -ge "$n" ] && return 0
        sleep 0.05
    done
    echo "timeout waiting for '$pat' x$n:"; pane | tail -20
    return 1
}
prompts() { pane | grep -c '^> '; }
send() { tm send-keys -t "$S" -l -- "$1"; tm send-keys -t "$S" Enter; }
# send a line and wait for the next prompt
say() { local n; n=$(prompts); send "$1"; wait_for_prompts $((n + 1)); }
wait_for_prompts() {
    for _ in $(seq 400); do [ "$(prompts)" -ge "$1" ] && return 0; sleep 0.05; done
    echo "timeout waiting for prompt $1:"; pane | tail -20; return 1
}
squash() { tr -d ' \n\t\r'; }

SYS="You are a storyteller."
U1="Tell me about a cat."
U2="What did the cat do next?"
# ---- expectations: jinja2 renders, `run` answers --------------------------------------------------
python3 - "$W" "$M" "$TPL" "$SYS" "$U1" "$U2" >"$T/expect" <<'EOF' || { echo "FAIL: expectations"; exit 1; }
import json, subprocess, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
w, m, tpl, sysmsg, u1, u2 = sys.argv[1:7]
t = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(open(tpl).read())
def run(msgs):
    p = t.render(messages=msgs, add_generation_prompt=True)
    o = json.loads(subprocess.run([w, "run", "-m", m, "-p", p, "-n", "40", "--temp", "0", "--json"],
                                  check=True, capture_output=True, text=True).stdout)
    return o["text"]
msgs = [{"role": "system", "content": sysmsg}, {"role": "user", "content": u1}]
a1 = run(msgs)
msgs += [{"role": "assistant", "content": a1}, {"role": "user", "content": u2}]
a2 = run(msgs)
print(json.dumps([a1, a2]))
EOF
A1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0])' "$T/expect")
A2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[1])' "$T/expect")

# ---- two turns, /stats, Ctrl-C at the prompt, /reset, Ctrl-D -------------------------------------
# A placeholder session keeps the tmux server alive between the test's sessions: killing the last
# session makes the server exit asynchronously, and a new-session issued at once can attach to the
# dying server and vanish with it ("no server running" for the rest of the run; seen once in CI).
tm new-session -d -s keepalive "sleep 3600"
tm new-session -d -s "$S" -x 220 -y 60 "HOME='$T' '$W' chat -m '$M' --chat-template '$TPL' -sys '$SYS' --temp 0 -n 40 -t 1; echo EXIT=\$?; sleep 30"
wait_for "wasm-chord chat —" || exit 1
wait_for_prompts 1
say "$U1"
say "$U2"
p=$(pane)
check "turn 1 answer equals run's on jinja2's rendering" '[[ "$(squash <<<"$p")" == *"$(squash <<<"$A1")"* ]]'
check "turn 2 answer (with turn 1 in the template) equals run's" '[[ "$(squash <<<"$p")" == *"$(squash <<<"$A2")"* ]]'
send "/stats"
wait_for "last turn:" 1
st=$(pane | grep "last turn:" | tail -1)
read -r total reused fed <<<"$(sed -n 's/.*prompt \([0-9]*\) tokens = \([0-9]*\) reused from the cache + \([0-9]*\) prefilled.*/\1 \2 \3/p' <<<"$st")"
check "turn 2 reuses the cache: $st" '[ "${reused:-0}" -gt 0 ] && [ $((reused + fed)) = "$total" ] && [ "$fed" -lt "$total" ]'
tm send-keys -t "$S" C-c
wait_for "(Ctrl-D or /quit to leave)" 1
check "Ctrl-C at the prompt does not end the program" '! pane | grep -q "EXIT="'
say "/reset"
check "/reset says so" 'pane | grep -qF "(conversation reset)"'
say "/stats"
check "/reset empties the context" 'pane | grep -q "turns 0; context 0 of"'
say "$U1"
check "after /reset the first answer comes again" '[ "$(pane | squash | grep -o -F "$(squash <<<"$A1")" | wc -l)" -ge 2 ]'
tm send-keys -t "$S" C-d
wait_for "EXIT=" 1
check "Ctrl-D leaves with exit 0" 'pane | grep -q "EXIT=0"'
check "history written to \$HOME/.wasm_chord_history (libedit's vis encoding)" 'sed "s/\\\\040/ /g" "$T/.wasm_chord_history" | grep -qF "$U2"'
tm kill-session -t "$S" 2>/dev/null

# ---- Ctrl-C mid-answer ---------------------------------------------------------------------------
tm new-session -d -s "$S" -x 220 -y 60 "HOME='$T' '$W' chat -m '$M' --chat-template '$TPL' --temp 0 --ignore-eos -t 1; echo EXIT=\$?; sleep 30"
wait_for_prompts 1
send "$U1"
# the answer runs to the full context (about 2000 tokens); interrupt once some text is out
for _ in $(seq 200); do [ "$(pane | wc -c)" -gt 400 ] && break; sleep 0.02; done
tm send-keys -t "$S" C-c
wait_for "[stopped]" 1
check "Ctrl-C stops the answer" 'pane | grep -qF "[stopped]"'
wait_for_prompts 2
say "/stats"
gen=$(pane | sed -n 's/.*; \([0-9]*\) generated$/\1/p' | tail -1)
ctx=$(pane | sed -n 's/.* context \([0-9]*\) of \([0-9]*\) tokens.*/\2/p' | tail -1)
check "the stopped answer is shorter than the context ($gen of $ctx tokens) and the program goes on" \
      '[ -n "$gen" ] && [ "$gen" -gt 0 ] && [ "$gen" -lt $((ctx - 100)) ] && ! pane | grep -q "EXIT="'
send "/quit"
wait_for "EXIT=" 1
check "/quit leaves with exit 0" 'pane | grep -q "EXIT=0"'
tm kill-session -t "$S" 2>/dev/null

# ---- piped input, context overflow ----------------------------------------------------------------
long=$(python3 -c "print(' '.join(['the cat sat on the mat'] * 40))")
out=$(printf '%s\n/stats\n' "$long" | "$W" chat -m "$M" --chat-template "$TPL" -c 64 --temp 0 2>&1); rc=$?
check "a message beyond the context is refused clearly, exit 0" '[ $rc = 0 ] && grep -q "beyond the context of 64" <<<"$out" && grep -q "turns 0; context 0 of 64" <<<"$out"'
out=$(printf 'hello\nhello again\n' | "$W" chat -m "$M" --chat-template "$TPL" -c 48 --temp 0 --ignore-eos 2>&1); rc=$?
check "an answer that fills the context ends with a note, the next message is refused, exit 0" \
      '[ $rc = 0 ] && grep -qF "[the context is full" <<<"$out" && grep -q "beyond the context of 48" <<<"$out"'
"$W" chat -m "$M" --temp -1 </dev/null 2>"$T/e"; rc=$?
check "bad sampler value → exit 2 ($(cat "$T/e"))" '[ $rc = 2 ] && grep -q temperature "$T/e"'

[ $fails = 0 ] && echo "t_chat_repl: all passed" || { echo "t_chat_repl: $fails FAILED"; exit 1; }
