#!/usr/bin/env bash
# t_inspect.sh — `wasm-chord inspect`: text output on real files, valid JSON (checked with
# node's JSON.parse, including escapes of hostile strings and NaN), --help, and a one-line error
# with a non-zero exit on bad input.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WC="$BUILD/wasm-chord"
SHARED=${CHORD_SHARED:-.}
fails=0
ok()   { echo "  ok: $1"; }
bad()  { echo "  FAIL: $1"; fails=$((fails+1)); }
has()  { grep -qF -- "$2" <<<"$1" && ok "$3" || bad "$3 (missing: $2)"; }
[ -x "$WC" ] || { echo "FAIL: $WC not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

out=$("$WC" inspect --help) && has "$out" "usage: wasm-chord inspect -m FILE" "--help prints usage, exit 0" || bad "--help exit status"

# --- errors: one line on stderr, non-zero exit
check_error() { # file, expected substring, label
    "$WC" inspect -m "$1" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -ne 0 ] && ok "$3: exit $rc" || bad "$3: exit 0"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "$3: one line" || bad "$3: $(wc -l <"$tmp/err") lines on stderr"
    has "$(cat "$tmp/err")" "wasm-chord: error: " "$3: prefix"
    has "$(cat "$tmp/err")" "$2" "$3: message"
    [ ! -s "$tmp/out" ] && ok "$3: nothing on stdout" || bad "$3: output on stdout"
}
check_error tests/data/bad/overlap.gguf "overlaps tensor 'a'" "overlapping tensors"
check_error tests/data/bad/bad_magic.gguf "wrong magic" "bad magic"
check_error "$tmp/does-not-exist.gguf" "cannot open" "missing file"
"$WC" inspect 2>"$tmp/err"; [ $? -eq 2 ] && ok "no -m: exit 2" || bad "no -m: exit status"
"$WC" inspect -m x --bogus 2>"$tmp/err"; [ $? -eq 2 ] && ok "unknown flag: exit 2" || bad "unknown flag: exit status"

# --- real files
spm="$SHARED/vocab/ggml-vocab-llama-spm.gguf"
if [ -f "$spm" ]; then
    out=$("$WC" inspect -m "$spm") || bad "inspect $spm failed"
    has "$out" "metadata: 22 keys" "spm: key count"
    has "$out" "tokenizer.ggml.tokens" "spm: tokens key"
    has "$out" '[str x 32000] "<unk>", "<s>", "</s>"' "spm: abbreviated string array"
    has "$out" "[f32 x 32000]" "spm: scores array"
    has "$out" "tensors: 0" "spm: no tensors"
    if command -v node >/dev/null; then
        "$WC" inspect --json -m "$spm" >"$tmp/spm.json" || bad "--json failed"
        node -e '
            const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            const t = j.metadata.find(m => m.key === "tokenizer.ggml.tokens");
            if (j.version !== 3 || j.metadata.length !== 22 || t.count !== 32000 || t.elem_type !== "str" ||
                t.head[1] !== "<s>" || j.tensors.length !== 0) { console.error(JSON.stringify(t)); process.exit(1); }
        ' "$tmp/spm.json" && ok "spm: JSON parses with the right facts" || bad "spm: JSON"
    else
        bad "node not installed (scripts/setup.sh installs it)"
    fi
else
    echo "SKIP: $spm not found (set CHORD_SHARED)"
fi
model="$SHARED/models/stories260K.gguf"
if [ -f "$model" ]; then
    out=$("$WC" inspect -m "$model") || bad "inspect $model failed"
    has "$out" "tensors: 48" "stories260K: tensor count"
    has "$out" "token_embd.weight" "stories260K: tensor name"
    has "$out" "64 x 512" "stories260K: shape"
    has "$out" "totals: 48 tensors, 292800 elements, 1171200 bytes" "stories260K: totals"
    if command -v node >/dev/null; then
        "$WC" inspect --json -m "$model" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
                const j = JSON.parse(s);
                const e = j.tensors.find(t => t.name === "token_embd.weight");
                const ok = e && e.type === "f32" && e.shape.join() === "64,512" && e.bytes === 131072 &&
                    e.offset === j.data_offset && j.totals.tensors === 48;
                process.exit(ok ? 0 : 1);
            });' && ok "stories260K: JSON tensor table" || bad "stories260K: JSON"
    fi
else
    echo "SKIP: $model not found (set CHORD_SHARED)"
fi

# --- JSON escaping: a GGUF (built here with node) whose strings hold quotes, backslashes,
# control characters, invalid UTF-8 and non-ASCII, plus a NaN float
if command -v node >/dev/null; then
    node -e '
        const parts = [];
        const u32 = v => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
        const u64 = v => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
        const str = s => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
        parts.push(Buffer.from("GGUF")); u32(3); u64(0); u64(3);
        str("evil\"key"); u32(8); str(Buffer.concat([Buffer.from("q\" b\\ nl\n tab\t bell\x07 "), Buffer.from([0xff, 0xc3]), Buffer.from(" ü✓")]));
        str("nan"); u32(6); const f = Buffer.alloc(4); f.writeFloatLE(NaN); parts.push(f);
        str("list"); u32(9); u32(8); u64(2); str("a\"b"); str(Buffer.from([0xe2, 0x82]));
        require("fs").writeFileSync(process.argv[1], Buffer.concat(parts));
    ' "$tmp/evil.gguf"
    "$WC" inspect --json -m "$tmp/evil.gguf" >"$tmp/evil.json" || bad "evil: --json failed"
    node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const m = Object.fromEntries(j.metadata.map(e => [e.key, e]));
        const want = "q\" b\\ nl\n tab\t bell\x07 \ufffd\ufffd ü✓";
        const ok = m["evil\"key"].value === want && m.nan.value === null &&
            m.list.head[0] === "a\"b" && m.list.head[1] === "\ufffd\ufffd";
        if (!ok) { console.error(JSON.stringify(j.metadata)); process.exit(1); }
    ' "$tmp/evil.json" && ok "hostile strings: valid, correctly escaped JSON" || bad "hostile strings JSON"
    out=$("$WC" inspect -m "$tmp/evil.gguf") && has "$out" 'nl\n tab\t bell\u0007' "hostile strings: escaped in text mode"
fi

[ $fails -eq 0 ] && echo "t_inspect: all passed" || { echo "t_inspect: $fails FAILED"; exit 1; }
