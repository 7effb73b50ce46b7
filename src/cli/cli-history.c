/* A run's example history for the CLI: cache or computation, with progress on a terminal. */
#include "cli-history.h"

#include <stdio.h>
#include <unistd.h>

#include "cli-commands.h"
#include "cli-common.h"

static void
on_progress (void *user_data, double fraction)
{
  fputc ('\r', stderr);
  fprintf (stderr, _("history: running the checkpoints over the examples %3d%%"), (int) (fraction * 100.0 + 0.5));
  fflush (stderr);
}

int
cli_parse_run_command (int argc, char **argv, const char *command, const cli_option *options, cli_args *args)
{
  int code = cli_parse (argc, argv, command, options, args);
  if (code != CLI_EXIT_OK || args->values[CLI_OPT_HELP] != NULL)
    {
      cli_command_usage (command);
      return code == CLI_EXIT_OK ? CLI_HELP_SHOWN : code;
    }
  if (args->n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, command, _("expected exactly one RUN directory"));
  return cli_apply_threads (args);
}

int
cli_history_load (const char *path, cs_run **run, cs_history **history)
{
  cs_error err = { 0 };
  *history = NULL;
  if ((*run = cs_run_load (path, &err)) == NULL)
    return cli_fail (path, &err);
  bool tty = isatty (STDERR_FILENO) == 1;
  cs_progress progress = { .progress = tty ? on_progress : NULL };
  bool cached = false;
  *history = cs_history_get (*run, &progress, &cached, &err);
  if (tty && !cached)
    fputc ('\n', stderr);
  if (*history == NULL)
    {
      int code = cli_fail ((*run)->path, &err);
      cs_run_free (*run);
      *run = NULL;
      return code;
    }
  return CLI_EXIT_OK;
}

const char *
cli_history_class (const cs_run *run, int32_t c, char *buf)
{
  if (run->classes != NULL && c >= 0 && c < run->n_classes)
    return run->classes[c];
  snprintf (buf, 16, "%d", c);
  return buf;
}
