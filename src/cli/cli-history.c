/* A run's example history for the CLI: cache or computation, with progress on a terminal. */
#include "cli-history.h"

#include <stdio.h>
#include <unistd.h>

#include "cli-common.h"

static void
on_progress (void *user_data, double fraction)
{
  fputc ('\r', stderr);
  fprintf (stderr, _("history: running the checkpoints over the examples %3d%%"), (int) (fraction * 100.0 + 0.5));
  fflush (stderr);
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
