#!/usr/bin/env bash
# t_tokenize_cli.sh — `wasm-chord tokenize` on the vocabulary-only GGUFs of vocab/:
# every test vector written to a file and tokenized with --file --no-bos must print exactly the
# .out line; -p, BOS, --parse-special, --pieces, --help and errors (one line, non-zero exit).
# Also checks that src/tokenizer/unicode_tables.c is what tools/gen_unicode makes of the installed
# Unicode data (when the unicode-data package and node are present).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WC="$BUILD/wasm-chord"
SHARED=${CHORD_SHARED:-.}
fails=0
ok()  { echo "  ok: $1"; }
bad() { echo "  FAIL: $1"; fails=$((fails+1)); }
[ -x "$WC" ] || { echo "FAIL: $WC not built"; exit 1; }
. tests/lib/vocab_vectors.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

if [ -f /usr/share/unicode/UnicodeData.txt ] && command -v node >/dev/null; then
    node tools/gen_unicode/gen_unicode.mjs > "$tmp/unicode_tables.c" && cmp -s "$tmp/unicode_tables.c" src/tokenizer/unicode_tables.c \
        && ok "src/tokenizer/unicode_tables.c matches the generator's output" || bad "src/tokenizer/unicode_tables.c is stale (make unicode-tables)"
else
    echo "  SKIP: unicode-data or node missing: table regeneration not checked"
fi

"$WC" tokenize --help | grep -q "usage: wasm-chord tokenize" && ok "--help" || bad "--help"
"$WC" tokenize -m /nonexistent.gguf -p hi 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "wasm-chord: error:" "$tmp/err" \
    && ok "missing model: one-line error, exit $rc" || bad "missing model error (rc $rc)"
"$WC" tokenize -p hi 2>/dev/null; [ $? -eq 2 ] && ok "usage error exits 2" || bad "usage error exit status"

if [ ! -f "$SHARED/vocab/ggml-vocab-llama-spm.gguf" ]; then
    echo "SKIP: $SHARED/vocab not found (set CHORD_SHARED)"; exit $((fails > 0))
fi
if ! command -v node >/dev/null; then echo "SKIP: node not found (needed to split the vectors)"; exit $((fails > 0)); fi

for v in llama-spm llama-bpe gpt-2; do
    f="$SHARED/vocab/ggml-vocab-$v.gguf"
    vocab_vectors "$WC" "$f" "$tmp/$v"
    match=$VV_MATCH; n=$VV_N
    [ -z "$VV_DIFFS" ] || echo "$VV_DIFFS" | sed "s/^/    $v /"
    [ $match -eq $n ] && ok "$v: $match/$n vectors via --file --no-bos" || bad "$v: $match/$n vectors"
done

out=$("$WC" tokenize -m "$SHARED/vocab/ggml-vocab-llama-spm.gguf" -p "Hello world")
[ "$out" = "1 15043 3186" ] && ok "llama-spm adds BOS by default" || bad "llama-spm BOS: '$out'"
out=$("$WC" tokenize -m "$SHARED/vocab/ggml-vocab-llama-bpe.gguf" -p "<|eot_id|>" --no-bos --parse-special)
[ "$out" = "128009" ] && ok "--parse-special matches <|eot_id|>" || bad "--parse-special: '$out'"
out=$("$WC" tokenize -m "$SHARED/vocab/ggml-vocab-llama-bpe.gguf" -p "<|eot_id|>" --no-bos)
[ "$out" != "128009" ] && ok "without --parse-special <|eot_id|> is plain text" || bad "special parsed without the flag"
out=$("$WC" tokenize -m "$SHARED/vocab/ggml-vocab-gpt-2.gguf" -p "Hi there" --pieces)
grep -q "' there'" <<<"$out" && ok "--pieces shows token texts" || bad "--pieces: $out"
[ $fails -eq 0 ] && echo "PASS" || echo "FAIL: $fails"
exit $((fails > 0))
