/* `convscope-cli run-info`: argv starts after the command name; returns the exit code. */
#pragma once

int cli_cmd_run_info (int argc, char **argv);
