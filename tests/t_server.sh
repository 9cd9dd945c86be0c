#!/usr/bin/env bash
# t_server.sh — `wasm-chord serve` against the official `openai` npm client and curl, on the real
# stories260K model with a ChatML template (tests/data/chat/chatml.jinja, rendered for the
# expectations by Python's jinja2 as Hugging Face does):
#   - greedy chat and completion answers, streamed and not, equal `wasm-chord run` on the same
#     rendered prompt (text and token count); usage, stop strings, seeds, models list
#   - errors: OpenAI-shaped bodies and the right status for bad JSON, wrong types, unknown model,
#     n != 1, unknown parameters, too large a body, wrong method/URL, prompt beyond the context,
#     max_tokens beyond the limit, full queue (503), missing/wrong API key (401)
#   - a bounded load test (8 clients x 25 requests, --parallel 2): every request ends in a full
#     and correct answer or a clear 503, none lost, every slot free afterwards
#   - clients that disconnect mid-stream free their slot (tokens counted, not timed)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
W=$BUILD/wasm-chord
M=${CHORD_SHARED:-.}/models/stories260K.gguf
TPL=tests/data/chat/chatml.jinja
[ -f "$M" ] || { echo "SKIP: $M not found (set CHORD_SHARED)"; exit 0; }
node -e "import('openai')" 2>/dev/null || { echo "SKIP: the openai npm package is missing (make setup)"; exit 0; }
python3 -c "import jinja2" 2>/dev/null || { echo "SKIP: python3-jinja2 is missing (make setup)"; exit 0; }
"$W" serve --help >/dev/null || { echo "FAIL: $W has no serve command"; exit 1; }
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

# start NAME ARGS... → sets PORT_NAME; the server prints its port (we ask for any free one)
start() {
    local name=$1; shift
    "$W" serve -m "$M" --port 0 "$@" 2>"$T/$name.log" &
    PIDS+=($!)
    eval "PID_$name=$!"
    for _ in $(seq 100); do
        grep -q 'listening on' "$T/$name.log" && break
        sleep 0.1
    done
    local port
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$T/$name.log")
    [ -n "$port" ] || { echo "FAIL: server $name did not start:"; cat "$T/$name.log"; exit 1; }
    eval "PORT_$name=$port"
}

# ---- expectations from `wasm-chord run` on jinja2's rendering ----------------------------------
python3 - "$W" "$M" "$TPL" >"$T/expect.json" <<'EOF' || { echo "FAIL: computing the expectations"; exit 1; }
import json, subprocess, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
w, m, tpl = sys.argv[1:4]
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
template = env.from_string(open(tpl).read())
def run(prompt, n):
    out = subprocess.run([w, "run", "-m", m, "-p", prompt, "-n", str(n), "--temp", "0", "--json"],
                         check=True, capture_output=True, text=True).stdout
    o = json.loads(out)
    return o["text"], len(o["tokens"]), len(o["prompt_tokens"])
chats = [
    [{"role": "user", "content": "Tell me a story about a cat."}],
    [{"role": "system", "content": "You are a storyteller."}, {"role": "user", "content": "Once upon a time"},
     {"role": "assistant", "content": "there was a girl named Lily."}, {"role": "user", "content": "What did she do? ünïcödé ✓"}],
    [{"role": "user", "content": ""}],
]
cfg = {"chat": [], "completion": [], "stop_word": "Lily"}
for i, msgs in enumerate(chats):
    text, n, pn = run(template.render(messages=msgs, add_generation_prompt=True), 12 + 4 * i)
    cfg["chat"].append({"messages": msgs, "max_tokens": 12 + 4 * i, "text": text, "n": n, "prompt_n": pn})
for i, p in enumerate(["Once upon a time", "The little dog", "Tom and Sue went to"]):
    text, n, pn = run(p, 20 + 3 * i)
    cfg["completion"].append({"prompt": p, "max_tokens": 20 + 3 * i, "text": text, "n": n})
assert "Lily" in cfg["completion"][0]["text"][1:], cfg["completion"][0]["text"]
print(json.dumps(cfg))
EOF
conf() { # NAME PORT [KEY] → config file for client.mjs
    python3 -c "import json,sys; c=json.load(open('$T/expect.json')); c['base']='http://127.0.0.1:$2/v1'; c['model']='stories260K'
if len(sys.argv) > 1: c['key']=sys.argv[1]
json.dump(c, open('$T/$1.json','w'))" ${3:+"$3"}
}

# ---- the main server: 2 slots -------------------------------------------------------------------
start A --parallel 2 --chat-template "$TPL"
conf A "$PORT_A"
node tests/server/client.mjs "$T/A.json" api
check "openai client: API, streaming, greedy = run, errors" '[ $? = 0 ]'
node tests/server/client.mjs "$T/A.json" load 8 25
check "openai client: load 8 x 25 on --parallel 2" '[ $? = 0 ]'
node tests/server/client.mjs "$T/A.json" disconnect
check "openai client: disconnect mid-stream frees the slot" '[ $? = 0 ]'

# ---- curl: error bodies --------------------------------------------------------------------------
U=http://127.0.0.1:$PORT_A
err() { # name, expected status, expected code (or -), curl args...
    local name=$1 want=$2 code=$3; shift 3
    local out status
    out=$(curl -s -w '\n%{http_code}' "$@")
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    check "$name → $status $(printf %s "$out" | head -c 160)" "[ \"$status\" = $want ] && node -e '
const o = JSON.parse(process.argv[1]).error;
const ok = typeof o.message === \"string\" && o.message.length > 0 && typeof o.type === \"string\" && \"param\" in o && \"code\" in o &&
  (process.argv[2] === \"-\" || o.code === process.argv[2]);
process.exit(ok ? 0 : 1)' \"\$out\" $code"
}
C=(-H 'Content-Type: application/json')
err "bad JSON" 400 invalid_json "$U/v1/chat/completions" "${C[@]}" -d '{"messages": [}'
err "body not an object" 400 invalid_value "$U/v1/chat/completions" "${C[@]}" -d '[1,2]'
err "temperature of the wrong type" 400 invalid_value "$U/v1/chat/completions" "${C[@]}" -d '{"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}'
err "max_tokens not an integer" 400 invalid_value "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","max_tokens":1.5}'
err "stream not a boolean" 400 invalid_value "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","stream":"yes"}'
err "messages missing" 400 invalid_value "$U/v1/chat/completions" "${C[@]}" -d '{"model":"stories260K"}'
err "message without a role" 400 invalid_value "$U/v1/chat/completions" "${C[@]}" -d '{"messages":[{"content":"hi"}]}'
err "unknown model" 404 model_not_found "$U/v1/completions" "${C[@]}" -d '{"model":"gpt-4","prompt":"hi"}'
err "unknown model (retrieve)" 404 model_not_found "$U/v1/models/gpt-4"
err "n = 3" 400 unsupported_parameter "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","n":3}'
err "unknown parameter" 400 unsupported_parameter "$U/v1/chat/completions" "${C[@]}" -d '{"messages":[{"role":"user","content":"hi"}],"tools":[]}'
err "logprobs" 400 unsupported_parameter "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","logprobs":2}'
err "five stop strings" 400 invalid_value "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","stop":["a","b","c","d","e"]}'
err "token id out of range" 400 invalid_value "$U/v1/completions" "${C[@]}" -d '{"prompt":[1, 99999]}'
err "max_tokens above the limit" 400 invalid_value "$U/v1/completions" "${C[@]}" -d '{"prompt":"hi","max_tokens":100000}'
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
err "body above 1 MiB" 413 request_too_large "$U/v1/completions" "${C[@]}" --data-binary @"$T/big"
err "GET on a POST endpoint" 405 method_not_allowed "$U/v1/chat/completions"
# a cJSON string ends at a NUL: refused, not cut short without a word
err "a NUL character (\\u0000) in a string" 400 unsupported_content "$U/v1/chat/completions" "${C[@]}" -d '{"messages":[{"role":"user","content":"before\u0000after"}]}'
printf '{"prompt":"caf\xe9"}' >"$T/latin1"
err "a body that is not UTF-8" 400 invalid_json "$U/v1/completions" "${C[@]}" --data-binary @"$T/latin1"
check "an error quoting a path that is not UTF-8 is UTF-8" 'curl -s "$U/v1/models/caf%C3" | python3 -c "import sys; sys.stdin.buffer.read().decode(\"utf-8\")"'
err "unknown URL" 404 unknown_url "$U/v2/nothing"
check "GET /health" '[ "$(curl -s $U/health | node -e "const h=JSON.parse(require(\"fs\").readFileSync(0));console.log(h.slots_total,h.slots_free,h.queue)")" = "2 2 0" ]'

# ---- limits: a small context, a queue of one ----------------------------------------------------
start B --parallel 1 --queue 1 --queue-timeout 2 -c 64 --max-tokens 5000 --chat-template "$TPL"
UB=http://127.0.0.1:$PORT_B
long=$(python3 -c "print(' '.join(['Once upon a time there was a dog.'] * 20))")
err "prompt beyond the context" 400 context_length_exceeded "$UB/v1/completions" "${C[@]}" -d "{\"prompt\":\"$long\"}"
out=$(curl -s "$UB/v1/completions" -d '{"prompt":"Once upon a time","max_tokens":1000,"temperature":0,"ignore_eos":true}')
check "max_tokens beyond the context ends with finish_reason length at the context" 'node -e "
const o = JSON.parse(process.argv[1]); process.exit(o.choices[0].finish_reason === \"length\" && o.usage.total_tokens === 64 ? 0 : 1)" "$out"'
# one running, one queued, the third refused at once; the queued one waits at most 2 s
start Q --parallel 1 --queue 1 --queue-timeout 2
UQ=http://127.0.0.1:$PORT_Q
LONG='{"prompt":"Once upon a time","max_tokens":2000,"temperature":1,"seed":3,"ignore_eos":true,"stream":true}'
curl -sN "$UQ/v1/completions" -d "$LONG" >"$T/q1" & q1=$!
for _ in $(seq 50); do [ -s "$T/q1" ] && break; sleep 0.1; done
curl -s "$UQ/v1/completions" -d '{"prompt":"Once","max_tokens":2}' -o "$T/q2" -w '%{http_code}' >"$T/q2.code" & q2=$!
for _ in $(seq 50); do curl -s "$UQ/health" | grep -q '"queue":1' && break; sleep 0.05; done
err "queue full" 503 queue_full "$UQ/v1/completions" "${C[@]}" -d '{"prompt":"hi","max_tokens":2}'
kill $q1; wait $q2
check "the queued request is answered (200) or refused clearly (503)" 'grep -qE "^(200|503)$" "$T/q2.code" && node -e "JSON.parse(require(\"fs\").readFileSync(process.argv[1]))" "$T/q2"'
for _ in $(seq 100); do curl -s "$UQ/health" | grep -q '"slots_free":1,"queue":0' && break; sleep 0.05; done
check "a client killed mid-stream leaves the slot free" 'curl -s "$UQ/health" | grep -q "\"slots_free\":1,\"queue\":0"'

# ---- --cache-prompt: a slot keeps its cache, the same answers cost fewer prefilled tokens -------
start P --parallel 1 --cache-prompt --chat-template "$TPL"
conf P "$PORT_P"
hp() { curl -s "http://127.0.0.1:$PORT_P/health" | node -e "const h=JSON.parse(require('fs').readFileSync(0)); console.log(h.$1)"; }
node tests/server/client.mjs "$T/P.json" api >"$T/P.out"
check "--cache-prompt: the API run gives the same answers as run" '[ $? = 0 ] || { cat "$T/P.out"; false; }'
cached=$(hp prompt_tokens_cached); fed=$(hp prompt_tokens_prefilled)
check "--cache-prompt: repeated prompts came from the cache ($cached cached, $fed prefilled)" '[ "$cached" -gt "$fed" ]'

# ---- the request time limit: 2000 tokens take longer than 0.2 s → 504, streamed: an error event -
start L --parallel 1 --timeout 0.2
UL=http://127.0.0.1:$PORT_L
err "request time limit" 504 request_timeout "$UL/v1/completions" "${C[@]}" -d '{"prompt":"Once","max_tokens":2000,"temperature":1,"seed":1,"ignore_eos":true}'
curl -sN "$UL/v1/completions" -d '{"prompt":"Once","max_tokens":2000,"temperature":1,"seed":1,"ignore_eos":true,"stream":true}' >"$T/l2"
check "request time limit while streaming: an error event, then [DONE]" 'grep -q "^data: {\"error\":{.*request_timeout" "$T/l2" && tail -c 20 "$T/l2" | grep -q "\[DONE\]"'
check "the slot is free after the time limit" 'curl -s "$UL/health" | grep -q "\"slots_free\":1"'

# ---- API key --------------------------------------------------------------------------------------
start K --api-key sekret --chat-template "$TPL"
UK=http://127.0.0.1:$PORT_K
conf K "$PORT_K" sekret
node tests/server/client.mjs "$T/K.json" key
check "openai client: API key" '[ $? = 0 ]'
err "no Authorization header" 401 invalid_api_key "$UK/v1/models"
err "wrong Bearer key" 401 invalid_api_key "$UK/v1/completions" -H "Authorization: Bearer sekret2" -d '{"prompt":"hi"}'
check "/health needs no key" '[ "$(curl -s -o /dev/null -w %{http_code} $UK/health)" = 200 ]'

# ---- flags, shutdown ------------------------------------------------------------------------------
"$W" serve -m "$M" --parallel 0 2>"$T/e1"; rc=$?
check "--parallel 0 refused ($(cat "$T/e1"))" '[ $rc = 2 ] && grep -q "parallel" "$T/e1"'
"$W" serve -m /nonexistent.gguf --port 0 2>"$T/e2"; rc=$?
check "missing model → exit 1 ($(cat "$T/e2"))" '[ $rc = 1 ] && grep -q "cannot open" "$T/e2"'
"$W" serve -m "$M" --host 203.0.113.7 --port 0 2>"$T/e3"; rc=$?
check "an address not of this machine → clear error" '[ $rc = 1 ] && grep -q "cannot listen" "$T/e3"'
check "binds 127.0.0.1 by default" 'grep -q "listening on http://127.0.0.1:" "$T/A.log"'
kill -TERM "$PID_A"; wait "$PID_A"; rc=$?
check "SIGTERM stops the server cleanly (exit $rc)" '[ $rc = 0 ]'

[ $fails = 0 ] && echo "t_server: all passed" || { echo "t_server: $fails FAILED"; exit 1; }
