/*
 * main.c — `wasm-chord` command dispatcher. Subcommands live in their own files (cli_*.c) and
 * parse their own flags; every one has --help and exits non-zero with a one-line error.
 */
#include <stdio.h>
#include <string.h>
#include "chord.h"
#include "cli.h"

typedef struct { const char *name; int (*fn)(int, char **); const char *help; } command;

static const command commands[] = {
    { "run",      chord_cli_run,      "generate text from a prompt" },
    { "tokenize", chord_cli_tokenize, "print the token ids of a text" },
    { "inspect",  chord_cli_inspect,  "print a GGUF file's metadata and tensor table" },
    { "template", chord_cli_template, "print the prompt the model's chat template renders" },
#ifndef __wasi__ /* native only: tools/server and tools/chat, see mk/server.mk */
    { "chat",     chord_cli_chat,     "chat with a model in the terminal (its chat template)" },
    { "serve",    chord_cli_serve,    "OpenAI-compatible HTTP server" },
#endif
};

static void usage(FILE *f) {
    fprintf(f, "wasm-chord %s — LLM inference for GGUF models\n\nusage: wasm-chord <command> [options]\n\ncommands:\n",
            chord_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`wasm-chord <command> --help` describes a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("wasm-chord %s\n", chord_version()); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "wasm-chord: error: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
