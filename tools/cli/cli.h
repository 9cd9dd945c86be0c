/* cli.h — subcommands of the native `wasm-chord` CLI. Each returns the process exit code. */
#ifndef CHORD_CLI_H
#define CHORD_CLI_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int chord_cli_inspect(int argc, char **argv);
int chord_cli_run(int argc, char **argv);
int chord_cli_tokenize(int argc, char **argv);
int chord_cli_template(int argc, char **argv);

/* Checked option values (args.c): 1 when the whole of `s` is a number in range, else 0. */
int chord_cli_int(const char *s, long long min, long long max, long long *out);
int chord_cli_u64(const char *s, uint64_t *out);   /* no sign accepted */
int chord_cli_float(const char *s, float *out);
/* The whole file, NUL-terminated (not counted in *n); NULL on error (errno says why). Caller frees. */
char *chord_cli_read_file(const char *path, size_t *n);
int chord_cli_chat(int argc, char **argv);  /* tools/chat, native only */
int chord_cli_serve(int argc, char **argv); /* tools/server, native only */

/* `inspect --plan`: the memory plan (cli_mem.c). */
int chord_cli_plan(int argc, char **argv);
/* Memory flags shared by run and inspect --plan (--paged, --cache-layers N, --mem-budget SIZE,
 * --prefetch D, --policy pin|lru, --resident, --no-mmap): 1 = consumed argv[*i] (and its value),
 * 0 = not a memory flag, -1 = bad value (message printed). */
#include "chord.h"
int chord_cli_mem_flag(int argc, char **argv, int *i, chord_model_params *mp, const char *cmd);
/* The layer cache's statistics as a JSON object (run --json "cache"), and a one-line summary of
 * them for a paged model (nothing for a resident one). */
void chord_cli_cache_json(FILE *f, const chord_model *m);
void chord_cli_cache_summary(FILE *f, const chord_model *m, uint64_t n_tokens);
/* Set by --preload: run fills every layer slot before the prompt. */
extern int chord_cli_want_preload;
/* "2G", "512M", "1.5G", "4096" → bytes (K/M/G/T are powers of 1024). */
int chord_cli_parse_size(const char *s, uint64_t *out);
#endif
