# mk/tokenizer.mk — the tokenizer's reference harness (tools/tok_oracle/), linked against the
# prebuilt libllama from npm exactly like the main oracle (mk/oracle.mk provides ORACLE_SRC,
# ORACLE_BINS and the header clone). Built on demand by tests/t_tokenizer_oracle.sh; not in `all`.
# Regenerating the Unicode tables (needs the unicode-data apt package and node):
#   make unicode-tables

$(BUILD)/tok_oracle: tools/tok_oracle/tok_oracle.c $(ORACLE_SRC)/include/llama.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -I%,$(CFLAGS)) -isystem $(ORACLE_SRC)/include -isystem $(ORACLE_SRC)/ggml/include \
	    -DORACLE_BINS='"$(ORACLE_BINS)"' $< -o $@ \
	    -L$(ORACLE_BINS) -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so -l:libggml-base.so \
	    -Wl,-rpath,$(ORACLE_BINS) -lm

.PHONY: unicode-tables
unicode-tables:
	node tools/gen_unicode/gen_unicode.mjs > src/tokenizer/unicode_tables.c
