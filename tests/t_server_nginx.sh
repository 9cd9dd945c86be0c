#!/usr/bin/env bash
# t_server_nginx.sh — scale-out as docs/DEPLOY.md describes it: two `wasm-chord serve` replicas
# behind nginx (Debian's package, run here as a non-daemon with its own prefix and config in a
# temp dir, on loopback). The openai-client load test (8 clients x 25 requests) runs through
# nginx and loses nothing, and both replicas serve; then, during a second load run, one replica
# is stopped (SIGTERM: it stops accepting, finishes what it has, exits 0) and nginx sends the
# new requests to the other — again every request gets its full, correct answer.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
W=$BUILD/wasm-chord
M=${CHORD_SHARED:-.}/models/stories260K.gguf
TPL=tests/data/chat/chatml.jinja
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -f "$M" ] || { echo "SKIP: $M not found (set CHORD_SHARED)"; exit 0; }
[ -x "$NGINX" ] || { echo "SKIP: nginx is not installed (make setup)"; exit 0; }
node -e "import('openai')" 2>/dev/null || { echo "SKIP: the openai npm package is missing (make setup)"; exit 0; }
python3 -c "import jinja2" 2>/dev/null || { echo "SKIP: python3-jinja2 is missing (make setup)"; exit 0; }
T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

start() { # NAME ARGS...
    local name=$1; shift
    "$W" serve -m "$M" --port 0 --chat-template "$TPL" "$@" 2>"$T/$name.log" &
    PIDS+=($!)
    eval "PID_$name=$!"
    for _ in $(seq 100); do grep -q 'listening on' "$T/$name.log" && break; sleep 0.1; done
    local port
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$T/$name.log")
    [ -n "$port" ] || { echo "FAIL: replica $name did not start"; cat "$T/$name.log"; exit 1; }
    eval "PORT_$name=$port"
}
served() { curl -s "http://127.0.0.1:$1/health" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).requests_served)'; }

start R1 --parallel 1
start R2 --parallel 1
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx/logs"
# the upstream block as in docs/DEPLOY.md; paths point into the temp prefix
cat >"$T/nginx/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log warn;
events { worker_connections 512; }
http {
    access_log $T/nginx/logs/access.log;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    upstream wasm_chord {
        least_conn;
        server 127.0.0.1:$PORT_R1 max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$PORT_R2 max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:$NPORT;
        client_max_body_size 1m;
        location / {
            proxy_pass http://wasm_chord;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 600s;
            proxy_next_upstream error http_503 non_idempotent;
            proxy_next_upstream_tries 2;
        }
    }
}
EOF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/logs/error.log" &
NG=$!
PIDS+=($NG)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/health" && break; sleep 0.1; done
check "nginx is up on 127.0.0.1:$NPORT" 'curl -s "http://127.0.0.1:$NPORT/health" | grep -q slots_total'

# expectations: `run` on jinja2's rendering (the same as t_server.sh, fewer cases)
python3 - "$W" "$M" "$TPL" "$NPORT" >"$T/cfg.json" <<'EOF' || { echo "FAIL: computing the expectations"; exit 1; }
import json, subprocess, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
w, m, tpl, port = sys.argv[1:5]
t = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(open(tpl).read())
def run(prompt, n):
    o = json.loads(subprocess.run([w, "run", "-m", m, "-p", prompt, "-n", str(n), "--temp", "0", "--json"],
                                  check=True, capture_output=True, text=True).stdout)
    return o["text"], len(o["tokens"]), len(o["prompt_tokens"])
cfg = {"base": f"http://127.0.0.1:{port}/v1", "model": "stories260K", "chat": [], "completion": []}
for i, msgs in enumerate([[{"role": "user", "content": "Tell me a story."}],
                          [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who is Tom?"}]]):
    text, n, pn = run(t.render(messages=msgs, add_generation_prompt=True), 24)
    cfg["chat"].append({"messages": msgs, "max_tokens": 24, "text": text, "n": n, "prompt_n": pn})
for p in ["Once upon a time", "The little dog"]:
    text, n, pn = run(p, 32)
    cfg["completion"].append({"prompt": p, "max_tokens": 32, "text": text, "n": n})
print(json.dumps(cfg))
EOF

node tests/server/client.mjs "$T/cfg.json" load 8 25 | tee "$T/load1"
check "load 8 x 25 through nginx: all answered" '[ ${PIPESTATUS[0]} = 0 ] && grep -q "200 full answers, 0 clear 503s, 0 lost" "$T/load1"'
s1=$(served "$PORT_R1"); s2=$(served "$PORT_R2")
check "both replicas served ($s1 + $s2)" '[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] && [ $((s1 + s2)) -ge 200 ]'

# failover: stop R1 while a second load run is under way
node tests/server/client.mjs "$T/cfg.json" load 8 25 >"$T/load2" 2>&1 &
LOAD=$!
for _ in $(seq 200); do [ "$(served "$PORT_R1")" -ge $((s1 + 20)) ] && break; sleep 0.05; done
kill -TERM "$PID_R1"
wait "$PID_R1"; rc=$?
check "replica 1 drained and exited 0 mid-test (rc $rc)" '[ $rc = 0 ] && grep -q draining "$T/R1.log"'
r2_at_stop=$(served "$PORT_R2")
wait $LOAD; lrc=$?
cat "$T/load2"
check "load during failover: every request got its full answer" '[ $lrc = 0 ] && grep -q "200 full answers, 0 clear 503s, 0 lost" "$T/load2"'
r2_end=$(served "$PORT_R2")
check "after the stop, replica 2 took the new requests ($r2_at_stop → $r2_end)" '[ "$r2_end" -gt "$r2_at_stop" ]'
check "nginx answered every request with 200 ($(grep -vc '" 200 ' "$T/nginx/logs/access.log") other lines)" \
      '! grep "POST" "$T/nginx/logs/access.log" | grep -vq "\" 200 "'

[ $fails = 0 ] && echo "t_server_nginx: all passed" || { echo "t_server_nginx: $fails FAILED"; exit 1; }
