/* cli.h — subcommands of the native `wasm-chord` CLI. Each returns the process exit code. */
#ifndef CHORD_CLI_H
#define CHORD_CLI_H
int chord_cli_inspect(int argc, char **argv);
int chord_cli_run(int argc, char **argv);
int chord_cli_tokenize(int argc, char **argv);
int chord_cli_template(int argc, char **argv);
#endif
