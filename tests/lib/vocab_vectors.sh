# tests/lib/vocab_vectors.sh — sourced by t_tokenize_cli.sh and t_tokenizer_vocabs.sh: llama.cpp's
# tokenizer test vectors through `wasm-chord tokenize --file --no-bos` (as its test-tokenizer-0).
#   vocab_vectors CLI VOCAB.gguf TMPDIR
# splits VOCAB.gguf.inp on "\n__ggml_vocab_test__\n" into one file per input (bytes preserved),
# tokenizes each and compares with its line of VOCAB.gguf.out. Sets VV_N (vectors), VV_MATCH
# (identical) and VV_DIFFS (one "vector i: got '...' want '...'" line per mismatch). Needs node.
vocab_vectors() {
    local cli=$1 f=$2 dir=$3 got want
    mkdir -p "$dir"
    node -e '
        const fs = require("fs");
        const raw = fs.readFileSync(process.argv[1]);
        const sep = Buffer.from("\n__ggml_vocab_test__\n");
        let pos = 0, i = 0;
        while (pos < raw.length) {
            const next = raw.indexOf(sep, pos);
            const end = next < 0 ? raw.length : next;
            fs.writeFileSync(`${process.argv[2]}/${i++}.txt`, raw.subarray(pos, end));
            if (next < 0) break;
            pos = next + sep.length;
        }' "$f.inp" "$dir"
    VV_N=0; VV_MATCH=0; VV_DIFFS=""
    while IFS= read -r want; do
        got=$("$cli" tokenize -m "$f" --file "$dir/$VV_N.txt" --no-bos 2>&1)
        want=$(echo "$want" | sed 's/^ *//; s/ *$//')
        if [ "$got" = "$want" ]; then VV_MATCH=$((VV_MATCH+1))
        else VV_DIFFS="$VV_DIFFS${VV_DIFFS:+
}vector $VV_N: got '$got' want '$want'"; fi
        VV_N=$((VV_N+1))
    done < "$f.out"
}
