/* cli.h — subcommands of the native `wasm-chord` CLI. Each returns the process exit code. */
#ifndef CHORD_CLI_H
#define CHORD_CLI_H
int chord_cli_inspect(int argc, char **argv);
int chord_cli_run(int argc, char **argv);
int chord_cli_tokenize(int argc, char **argv);
int chord_cli_chat(int argc, char **argv);  /* tools/chat, native only */
int chord_cli_serve(int argc, char **argv); /* tools/server, native only */
#endif
