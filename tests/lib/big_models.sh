# tests/lib/big_models.sh — sourced by tests/t_big.sh, tests/t_paged.sh (CHORD_BIG=1) and
# bench/big.sh: the multi-GB synthetic models of issue 11's big-model proofs, made once by
# tools/make_model into ONE cache directory, $CHORD_BIG_DIR (default $BUILD/models), and reused.
# They take 10–60 min each to make on 2 cores, so they are NOT remade when the code changes
# (unlike tests/parity/lib.sh): delete a file to remake it. Disk: 7.2 + 4.1 + 18.3 GB.
BIG_DIR=${CHORD_BIG_DIR:-${BUILD:-build}/models}
BIG_VOCAB=${CHORD_SHARED:-.}/vocab/ggml-vocab-llama-spm.gguf
# Llama-2-7B shape: 32 layers, 4096 wide, 11008 ff, 32 heads (MHA), 32000-token SPM vocabulary.
BIG_7B="--layers 32 --embd 4096 --ff 11008 --heads 32 --ctx 4096"

# big_model_args NAME: the make_model arguments of a named big model.
big_model_args() {
    case $1 in
        llama7b-q8_0)   echo "$BIG_7B --type q8_0" ;;            # 7.16 GB
        llama7b-q4_k_m) echo "$BIG_7B --type q4_k_m" ;;          # 4.08 GB (llama.cpp's mixture)
        # > 16 GiB (past Chromium's Memory64 limit): the 7B width with 44 layers in F16, 9.2B
        # parameters, 18.3 GB = 17.1 GiB. (A 34B-shaped Q4_K_M would be 20 GB too, but makes
        # 3.7× more random parameters: over an hour on this machine's 2 shared cores.)
        llama-44l-f16)  echo "--layers 44 --embd 4096 --ff 11008 --heads 32 --ctx 4096 --type f16 --name llama-44-layer-f16" ;;
    esac
}

# big_model NAME: prints the path of $BIG_DIR/NAME.gguf, making it first if needed.
big_model() {
    local name=$1 args f
    args=$(big_model_args "$name")
    [ -n "$args" ] || { echo "big_model: unknown model '$name'" >&2; return 1; }
    f=$BIG_DIR/$name.gguf
    if [ ! -f "$f" ]; then
        [ -f "$BIG_VOCAB" ] || { echo "big_model: $BIG_VOCAB missing" >&2; return 1; }
        mkdir -p "$BIG_DIR"
        echo "big_model: making $f (once; $(df -h --output=avail "$BIG_DIR" | tail -1) free)..." >&2
        # shellcheck disable=SC2086
        "${BUILD:-build}/make_model" --vocab "$BIG_VOCAB" $args -q -o "$f" >&2 || return 1
    fi
    echo "$f"
}
