/* What the history and suspects commands share: a run's example history, from its cache or
 * computed with a progress line on a terminal, and the run's class names. */
#pragma once

#include "analysis/history.h"

#include "cli-common.h"

/* What the run commands (history, suspects, shortcuts) parse alike: their options, --help, one
 * RUN argument and --threads. Returns CLI_EXIT_OK to go on, CLI_HELP_SHOWN after --help (the
 * command then exits 0), or a usage error's code. */
#define CLI_HELP_SHOWN (-1)
int cli_parse_run_command (int argc, char **argv, const char *command, const cli_option *options,
                           cli_args *args);

/* Loads the run at path and its history. Returns CLI_EXIT_OK, or reports the error and returns
 * CLI_EXIT_FAILURE; on success the caller frees both. */
int cli_history_load (const char *path, cs_run **run, cs_history **history);

/* The run's name of class c, or its number as text (buf holds 16 bytes). */
const char *cli_history_class (const cs_run *run, int32_t c, char *buf);
