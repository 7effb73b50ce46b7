/* `convscope-cli study`: run, submit and report a study of training runs (docs/cli/study.md). */
#pragma once

#include <stdbool.h>

#include "cli-common.h"

/* Parses a study subcommand: --help prints the synopsis (*help set, CLI_EXIT_OK); otherwise
 * exactly one positional argument is expected (`expects` says which). */
int cli_study_parse (int argc, char **argv, const char *command, const cli_option *options, const char *expects,
                     cli_args *args, bool *help);

int cli_study_run (int argc, char **argv);
int cli_study_submit (int argc, char **argv);
int cli_study_report (int argc, char **argv);
