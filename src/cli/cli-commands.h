/* The commands of convscope-cli, one file each; argv starts after the command name. */
#pragma once

int cli_cmd_inspect (int argc, char **argv);
int cli_cmd_predict (int argc, char **argv);
int cli_cmd_explain (int argc, char **argv);
int cli_cmd_compare (int argc, char **argv);
int cli_cmd_evaluate (int argc, char **argv);
int cli_cmd_bench (int argc, char **argv);
int cli_cmd_features (int argc, char **argv);
int cli_cmd_top_examples (int argc, char **argv);
int cli_cmd_train (int argc, char **argv);
int cli_cmd_history (int argc, char **argv);
int cli_cmd_suspects (int argc, char **argv);
int cli_cmd_shortcuts (int argc, char **argv);
int cli_cmd_study (int argc, char **argv);

/* Prints the command's synopsis on stdout (for --help). */
void cli_command_usage (const char *name);
