#!/usr/bin/env bash
# t_chat_template.sh — our chat-template renderer against Python's jinja2 (Debian
# python3-jinja2, configured as transformers' apply_chat_template: tests/chat/ref_jinja2.py).
# Every template in llama.cpp's models/templates/ (the source bundle of node-llama-cpp, cloned
# to $BUILD/llama.cpp-src) x every conversation in tests/chat/conv/ is rendered by both; every
# pair jinja2 renders without error must be byte-identical with `wasm-chord template`. Pairs
# where jinja2 itself fails (the template raises, uses a filter jinja2 lacks, mutates a list in
# the immutable sandbox, ...) are not compared but must fail in ours too, with an error message.
# Prints per template: identical/compared and the jinja2-error count.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WC="$BUILD/wasm-chord"
TPL="$BUILD/llama.cpp-src/models/templates"
[ -x "$WC" ] || { echo "FAIL: $WC not built"; exit 1; }
python3 -c 'import jinja2' 2>/dev/null || { echo "SKIP: python3-jinja2 not installed"; exit 0; }
if [ ! -d "$TPL" ]; then
    make -s "$BUILD/llama.cpp-src/include/llama.h" >/dev/null 2>&1 || true
fi
[ -d "$TPL" ] || { echo "SKIP: llama.cpp templates absent ($TPL; needs node-llama-cpp's source bundle)"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
BOS='<|bos|>'; EOS='<|eos|>'

# The CLI itself: help, one-line errors naming line/column, the plain fallback of a model
# without a template.
cli_fail=0
"$WC" template --help | grep -q "usage: wasm-chord template" || { echo "  FAIL: template --help"; cli_fail=1; }
printf 'a\n{%% for m in messages %%}{{ m.role }' > "$tmp/bad.jinja"
"$WC" template --template "$tmp/bad.jinja" --messages tests/chat/conv/basic.json > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "line 2 column" "$tmp/err" || { echo "  FAIL: template error: $(cat "$tmp/err")"; cli_fail=1; }
"$WC" template --messages tests/chat/conv/basic.json >/dev/null 2>&1; [ $? -eq 2 ] || { echo "  FAIL: usage error exit status"; cli_fail=1; }
SHARED=${CHORD_SHARED:-.}
if [ -f "$SHARED/models/stories260K.gguf" ]; then
    "$WC" template -m "$SHARED/models/stories260K.gguf" --messages tests/chat/conv/user_only.json > "$tmp/plain"
    printf 'user: What is 2 + 2?\n\nassistant: ' | cmp -s - "$tmp/plain" || { echo "  FAIL: plain fallback for a model without a template: $(cat -A "$tmp/plain")"; cli_fail=1; }
fi
[ $cli_fail -eq 0 ] && echo "  ok: wasm-chord template --help, errors, plain fallback" || { echo "FAIL: wasm-chord template CLI"; exit 1; }
templates=("$TPL"/*.jinja)
convs=(tests/chat/conv/*.json)
python3 tests/chat/ref_jinja2.py "$tmp" "$BOS" "$EOS" "${templates[@]}" -- "${convs[@]}" || { echo "FAIL: reference renderer crashed"; exit 1; }

total_same=0; total_cmp=0; total_jerr=0; fails=0; templates_ok=0
for t in "${templates[@]}"; do
    tn=$(basename "$t" .jinja)
    same=0; cmpd=0; jerr=0; bad=""
    for c in "${convs[@]}"; do
        cn=$(basename "$c" .json)
        ref="$tmp/${tn}__${cn}"
        "$WC" template --template "$t" --messages "$c" --bos "$BOS" --eos "$EOS" > "$ref.ours" 2> "$ref.ourerr"
        rc=$?
        if [ -f "$ref.err" ]; then
            jerr=$((jerr+1))
            if [ $rc -eq 0 ]; then bad="$bad $cn(jinja2 fails: $(head -c 120 "$ref.err" | tr '\n' ' '); ours renders)"; fi
            continue
        fi
        cmpd=$((cmpd+1))
        if [ $rc -eq 0 ] && cmp -s "$ref.txt" "$ref.ours"; then same=$((same+1))
        else
            if [ $rc -ne 0 ]; then bad="$bad $cn($(head -c 200 "$ref.ourerr"))"
            else bad="$bad $cn(differs at byte $(cmp "$ref.txt" "$ref.ours" 2>/dev/null | awk '{print $5}' | tr -d ,))"
                [ -n "${CHAT_DIFF:-}" ] && diff <(cat -A "$ref.txt") <(cat -A "$ref.ours") | head -20
            fi
        fi
    done
    total_same=$((total_same+same)); total_cmp=$((total_cmp+cmpd)); total_jerr=$((total_jerr+jerr))
    if [ -z "$bad" ]; then templates_ok=$((templates_ok+1)); printf '  ok: %-52s identical %2d/%-2d (jinja2 errors: %d)\n' "$tn" "$same" "$cmpd" "$jerr"
    else fails=$((fails+1)); printf '  FAIL: %-50s identical %2d/%-2d (jinja2 errors: %d):%s\n' "$tn" "$same" "$cmpd" "$jerr" "$bad"; fi
done
echo "templates: ${#templates[@]} ($templates_ok all identical), conversations: ${#convs[@]}; identical $total_same/$total_cmp pairs, $total_jerr pairs where jinja2 itself fails"
[ $fails -eq 0 ] || { echo "FAIL: $fails template(s) differ from jinja2"; exit 1; }

# The other targets render what the native build renders: every pair on the freestanding
# wasm32/wasm64 builds (one node process each), two conversations per template on WASI.
same_as_native() {  # $1 = suffix of the target's files; counts over the pairs that exist
    local sfx=$1 n=0 same=0 f base
    for f in "$tmp"/*."$sfx" "$tmp"/*."${sfx}err"; do
        [ -e "$f" ] || continue
        base=${f%.*}; n=$((n+1))
        if [ "${f##*.}" = "$sfx" ]; then cmp -s "$f" "$base.ours" && [ ! -s "$base.ourerr" ] && same=$((same+1)) || echo "    $sfx differs: $(basename "$base")"
        else [ -s "$base.ourerr" ] && same=$((same+1)) || echo "    $sfx fails where native renders: $(basename "$base"): $(head -c 160 "$f")"; fi
    done
    echo "$same $n"
}
W="$BUILD/wasm"
if command -v clang-19 >/dev/null && command -v node >/dev/null; then   # the same builds t_wasm.sh makes
    make -s BUILD="$BUILD" "$W/chord-wasm32.wasm" "$W/chord-wasm64.wasm" "$W/wasm-chord-wasi.wasm" > "$tmp/make_wasm.log" 2>&1 \
        || { cat "$tmp/make_wasm.log"; echo "FAIL: building the wasm targets"; exit 1; }
fi
if command -v node >/dev/null && [ -f "$W/chord-wasm32.wasm" ] && [ -f "$W/chord-wasm64.wasm" ]; then
    node tests/wasm/chat_template_wasm.mjs "$W/chord-wasm32.wasm" "$tmp" w32 "$BOS" "$EOS" "${templates[@]}" -- "${convs[@]}" || { echo "FAIL: wasm32 renderer crashed"; exit 1; }
    node --experimental-wasm-memory64 tests/wasm/chat_template_wasm.mjs "$W/chord-wasm64.wasm" "$tmp" w64 "$BOS" "$EOS" "${templates[@]}" -- "${convs[@]}" 2>/dev/null || { echo "FAIL: wasm64 renderer crashed"; exit 1; }
    for sfx in w32 w64; do
        r=$(same_as_native $sfx); set -- $(echo "$r" | tail -1)
        echo "$r" | head -n -1
        [ "$1" = "$2" ] && [ "$2" -gt 0 ] && echo "  ok: $sfx renders as native on $1/$2 pairs" || { echo "  FAIL: $sfx same as native on $1/$2 pairs"; fails=$((fails+1)); }
    done
else echo "  SKIP: wasm32/wasm64 builds or node absent (make wasm): freestanding targets not compared"; fi
if command -v node >/dev/null && [ -f "$W/wasm-chord-wasi.wasm" ]; then
    for t in "${templates[@]}"; do
        for c in tests/chat/conv/tools.json tests/chat/conv/unicode.json; do
            base="$tmp/$(basename "$t" .jinja)__$(basename "$c" .json)"
            node tests/wasm/wasi_run.mjs "$W/wasm-chord-wasi.wasm" template --template "$t" --messages "$c" --bos "$BOS" --eos "$EOS" > "$base.wasi" 2> "$base.wasierr_"
            if [ $? -ne 0 ]; then mv "$base.wasierr_" "$base.wasierr"; rm -f "$base.wasi"; else rm -f "$base.wasierr_"; fi
        done
    done
    r=$(same_as_native wasi); set -- $(echo "$r" | tail -1)
    echo "$r" | head -n -1
    [ "$1" = "$2" ] && [ "$2" -gt 0 ] && echo "  ok: WASI renders as native on $1/$2 pairs" || { echo "  FAIL: WASI same as native on $1/$2 pairs"; fails=$((fails+1)); }
else echo "  SKIP: WASI build or node absent: WASI not compared"; fi
[ $fails -eq 0 ] || { echo "FAIL: a target renders differently from the native build"; exit 1; }
echo "PASS"
