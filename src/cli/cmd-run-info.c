/* `convscope-cli run-info RUNDIR`: per-epoch metrics, per-layer weight statistics and the
 * overfitting onsets of a training run (docs/cli/run-info.md); the analysis and its JSON and
 * CSV come from the core, the text table is formatted here. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/history.h"
#include "analysis/run_analysis.h"
#include "cli-common.h"
#include "cmd-run-info.h"
#include "io/run.h"

enum { EXIT_USAGE = 2 };

static int
fail_line (int code, const char *what, const char *msg)
{
  /* The contract's single line, even if a message carried a newline. */
  char line[CS_ERROR_MESSAGE_SIZE + 64];
  snprintf (line, sizeof line, "%s", msg);
  for (char *c = line; *c != '\0'; c++)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  size_t n = strlen (what);
  /* Messages about a file inside the run already start with its path. */
  if (strncmp (line, what, n) == 0 && (line[n] == ':' || line[n] == '/'))
    fprintf (stderr, "convscope-cli: error: %s\n", line);
  else
    fprintf (stderr, "convscope-cli: error: %s: %s\n", what, line);
  return code;
}

static void
usage (FILE *fp)
{
  fprintf (fp, "%s convscope-cli run-info RUNDIR [--json] [--csv] [--history]\n", _("Usage:"));
  fputs (_("  per epoch: metrics; per layer and epoch: weight statistics; the detected\n"
           "  overfitting onset. --json: machine-readable; --csv: one row per epoch and layer.\n"
           "  --history: also compute each example's history (see `history`) for the early AUROC.\n"), fp);
}

static void
on_progress (void *user_data, double fraction)
{
  fputc ('\r', stderr);
  fprintf (stderr, _("run-info: analysing weights %3d%%"), (int) (fraction * 100.0 + 0.5));
  fflush (stderr);
}

/* JSON and CSV come from the core (one schema with the app's export); the text is the CLI's. */
static int
print_report (const cs_run_analysis *a, bool json)
{
  cs_error err = { 0 };
  char *text = json ? cs_run_report_json (a, &err) : cs_run_report_csv (a, &err);
  if (text == NULL)
    return fail_line (1, a->run->path, err.message);
  fputs (text, stdout);
  free (text);
  return 0;
}

/* "%.*g" or "-" (text) / "" (CSV) for undefined values. */
static const char *
fmt (char *buf, size_t size, double v, int digits, const char *none)
{
  if (!isfinite (v))
    snprintf (buf, size, "%s", none);
  else
    snprintf (buf, size, "%.*g", digits, v);
  return buf;
}

/* Characters (not bytes) of UTF-8 text: translated labels are padded by what is seen. */
static int
utf8_len (const char *s)
{
  int n = 0;
  for (; *s != '\0'; s++)
    n += ((unsigned char) *s & 0xC0) != 0x80;
  return n;
}

static void
print_epoch_label (const cs_run_analysis *a, const char *label, int width, int32_t index)
{
  printf ("  %s%*s ", label, width - utf8_len (label), "");
  if (index >= 0)
    printf (_("epoch %d\n"), cs_run_analysis_epoch (a, index));
  else
    printf ("%s\n", _("none"));
}

static int
print_text (const cs_run_analysis *a)
{
  const cs_run *run = a->run;
  const cs_run_stats *s = a->stats;
  char b[8][40];
  printf (_("%s: %s, %d epochs, model %s\n"), run->path, run->name ? run->name : _("(unnamed)"),
          run->n_epochs, run->model);
  printf ("\n%5s  %10s  %9s  %10s  %9s  %10s  %9s\n", "epoch", "train_loss", "train_acc",
          "val_loss", "val_acc", "gap", "lr");
  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      const cs_run_epoch *re = &run->epochs[e];
      printf ("%5d  %10s  %9s  %10s  %9s  %10s  %9s\n", re->epoch,
              fmt (b[0], 40, re->train_loss, 5, "-"), fmt (b[1], 40, re->train_accuracy, 4, "-"),
              fmt (b[2], 40, re->val_loss, 5, "-"), fmt (b[3], 40, re->val_accuracy, 4, "-"),
              fmt (b[4], 40, a->gap[e], 4, "-"), fmt (b[5], 40, re->learning_rate, 3, "-"));
    }
  /* A damaged checkpoint costs its epoch's weights, not the run: say which and why. */
  for (int32_t e = 0; e < run->n_epochs; e++)
    if (cs_run_analysis_checkpoint_error (a, e) != NULL)
      printf (_("note: epoch %d is unavailable (its weight statistics are left out): %s\n"),
              run->epochs[e].epoch, cs_run_analysis_checkpoint_error (a, e));
  for (int32_t l = 0; l < s->n_layers; l++)
    {
      const cs_layer_series *ls = &s->layers[l];
      printf (_("\nlayer %s (%s, %lld filters)\n"), ls->name, ls->op, (long long) ls->n_filters);
      printf ("%5s  %10s  %10s  %10s  %10s  %10s  %7s  %11s\n", "epoch", "norm", "rel_change",
              "cos_prev", "dist_init", "rotation", "alpha", "stable_rank");
      for (int32_t e = 0; e < s->n_epochs; e++)
        printf ("%5d  %10s  %10s  %10s  %10s  %10s  %7s  %11s\n", s->epochs[e],
                fmt (b[0], 40, ls->norm[e], 5, "-"), fmt (b[1], 40, ls->relative_change[e], 4, "-"),
                fmt (b[2], 40, ls->cosine_to_previous[e], 6, "-"),
                fmt (b[3], 40, ls->distance_from_init[e], 5, "-"),
                fmt (b[4], 40, ls->rotation[e], 4, "-"), fmt (b[5], 40, ls->alpha[e], 4, "-"),
                fmt (b[6], 40, ls->stable_rank[e], 4, "-"));
    }
  printf ("\n%s\n", _("overfitting"));
  const char *by_val = _("by validation:"), *by_w = _("by weights:");
  int width = utf8_len (by_val) > utf8_len (by_w) ? utf8_len (by_val) : utf8_len (by_w);
  width = width > 15 ? width : 15;
  print_epoch_label (a, by_val, width, a->by_validation);
  print_epoch_label (a, by_w, width, a->by_weights.index);
  printf ("  %s\n", a->explanation);
  if (a->early_auroc != NULL)
    {
      printf ("\n%s\n", _("anticipating the last epoch's validation mistakes from epochs 0..k (AUROC):"));
      for (int32_t e = 0; e < run->n_epochs; e++)
        printf ("  %5d  %s\n", run->epochs[e].epoch, fmt (b[0], 40, a->early_auroc[e], 3, "-"));
    }
  return 0;
}

/* --history: the example history from its cache, or computed (and cached) now. */
static cs_status
attach_history (cs_run_analysis *a, cs_error *err)
{
  cs_history *h = cs_history_get (a->run, NULL, NULL, err);
  cs_status st = h != NULL ? cs_run_analysis_attach_history (a, h, err) : err->code;
  cs_history_free (h);
  return st;
}

int
cli_cmd_run_info (int argc, char **argv)
{
  const char *path = NULL;
  bool json = false, csv = false, history = false;
  for (int i = 0; i < argc; i++)
    {
      const char *arg = argv[i];
      if (strcmp (arg, "--json") == 0)
        json = true;
      else if (strcmp (arg, "--csv") == 0)
        csv = true;
      else if (strcmp (arg, "--history") == 0)
        history = true;
      else if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
        {
          usage (stdout);
          return 0;
        }
      else if (arg[0] == '-' && arg[1] != '\0')
        return fail_line (EXIT_USAGE, arg, _("unknown option for 'run-info'"));
      else if (path != NULL)
        return fail_line (EXIT_USAGE, "run-info", _("expected one RUNDIR"));
      else
        path = arg;
    }
  if (path == NULL)
    return fail_line (EXIT_USAGE, "run-info", _("missing RUNDIR"));
  if (json && csv)
    return fail_line (EXIT_USAGE, "--csv", _("cannot be combined with --json"));

  cs_error err = { 0 };
  cs_run *run = cs_run_load (path, &err);
  if (run == NULL)
    return fail_line (1, path, err.message);
  bool tty = isatty (STDERR_FILENO);
  cs_progress progress = { .progress = tty ? on_progress : NULL };
  cs_run_analysis *a = cs_run_analysis_load (run, &progress, &err);
  if (tty)
    fprintf (stderr, "\r%40s\r", "");
  if (a != NULL && history && attach_history (a, &err) != CS_OK)
    {
      cs_run_analysis_free (a);
      a = NULL;
    }
  int code = a == NULL ? fail_line (1, path, err.message)
             : json || csv ? print_report (a, json) : print_text (a);
  cs_run_analysis_free (a);
  cs_run_free (run);
  return code;
}
