/* `convscope-cli run-info RUNDIR`: per-epoch metrics, per-layer weight statistics and the
 * overfitting onset of a training run (docs/cli/run-info.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/overfitting.h"
#include "analysis/run_stats.h"
#include "cli-common.h"
#include "cmd-run-info.h"
#include "io/atomic_file.h"
#include "io/run.h"

#define RUN_JSON_MAX ((size_t) 64 << 20)

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
  fprintf (fp, "%s convscope-cli run-info RUNDIR [--json] [--csv]\n", _("Usage:"));
  fputs (_("  per epoch: metrics; per layer and epoch: weight statistics; the detected\n"
           "  overfitting onset. --json: machine-readable; --csv: one row per epoch and layer.\n"), fp);
}

static void
on_progress (void *user_data, double fraction)
{
  fputc ('\r', stderr);
  fprintf (stderr, _("run-info: analysing weights %3d%%"), (int) (fraction * 100.0 + 0.5));
  fflush (stderr);
}

/* Everything the three output forms share. */
typedef struct {
  cs_run *run;
  cs_run_stats *stats;
  double *gap;
  int32_t by_validation;      /* index into the epochs, or -1 */
  cs_weight_onset by_weights;
  char explanation[2048];
} run_info;

static void
run_info_free (run_info *ri)
{
  cs_run_stats_free (ri->stats);
  cs_run_free (ri->run);
  free (ri->gap);
}

static cs_status
analyse (run_info *ri, cs_error *err)
{
  const cs_run *run = ri->run;
  const cs_run_stats *s = ri->stats;
  int32_t n = run->n_epochs, nl = s->n_layers;
  double *train = malloc ((size_t) n * sizeof *train), *val = malloc ((size_t) n * sizeof *val);
  double *lr = malloc ((size_t) n * sizeof *lr);
  double *rc = malloc ((size_t) (nl > 0 ? nl : 1) * (size_t) n * sizeof *rc);
  ri->gap = malloc ((size_t) n * sizeof *ri->gap);
  cs_status st = CS_OK;
  if (train == NULL || val == NULL || lr == NULL || rc == NULL || ri->gap == NULL)
    {
      st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      goto done;
    }
  bool all_lr = true;
  for (int32_t e = 0; e < n; e++)
    {
      train[e] = run->epochs[e].train_loss;
      val[e] = run->epochs[e].val_loss;
      lr[e] = run->epochs[e].learning_rate;
      all_lr = all_lr && (e == 0 || (isfinite (lr[e]) && lr[e] > 0.0));
    }
  for (int32_t l = 0; l < nl; l++)
    memcpy (rc + (size_t) l * n, s->layers[l].relative_change, (size_t) n * sizeof *rc);
  cs_generalization_gap (train, val, n, ri->gap);
  ri->by_validation = cs_onset_by_validation (train, val, n, CS_ONSET_PATIENCE,
                                              CS_ONSET_MIN_DELTA);
  cs_weight_series ws = { .n_epochs = n, .n_layers = nl, .relative_change = rc,
                          .learning_rate = all_lr ? lr : NULL };
  ri->by_weights = cs_onset_by_weights (&ws);
  cs_onset_explain (s->epochs, n, ri->by_validation, &ri->by_weights, ri->explanation,
                    sizeof ri->explanation);

done:
  free (train);
  free (val);
  free (lr);
  free (rc);
  return st;
}

static cJSON *
number_or_null (double v)
{
  return isfinite (v) ? cJSON_CreateNumber (v) : cJSON_CreateNull ();
}

static cJSON *
series_json (const double *v, int32_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int32_t i = 0; i < n; i++)
    cJSON_AddItemToArray (a, number_or_null (v[i]));
  return a;
}

static cJSON *
epoch_or_null (const run_info *ri, int32_t index)
{
  return index >= 0 ? cJSON_CreateNumber (ri->stats->epochs[index]) : cJSON_CreateNull ();
}

static int
print_json (const run_info *ri)
{
  /* "epochs" exactly as run.json has them (every field the writer recorded). */
  uint8_t *text = NULL;
  size_t size = 0;
  cs_error err = { 0 };
  if (cs_file_read_all (ri->run->path, RUN_JSON_MAX, &text, &size, &err) != CS_OK)
    return fail_line (1, ri->run->path, err.message);
  cJSON *run_doc = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  cJSON *epochs = cJSON_DetachItemFromObjectCaseSensitive (run_doc, "epochs");
  cJSON_Delete (run_doc);
  if (epochs == NULL)
    return fail_line (1, ri->run->path, _("run.json changed while it was read"));

  const cs_run_stats *s = ri->stats;
  int32_t n = s->n_epochs;
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddItemToObject (doc, "epochs", epochs);
  cJSON *layers = cJSON_AddArrayToObject (doc, "layers");
  for (int32_t l = 0; l < s->n_layers; l++)
    {
      const cs_layer_series *ls = &s->layers[l];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", ls->name);
      cJSON_AddStringToObject (o, "op", ls->op);
      cJSON_AddItemToObject (o, "norm", series_json (ls->norm, n));
      cJSON_AddItemToObject (o, "relative_change", series_json (ls->relative_change, n));
      cJSON_AddItemToObject (o, "cosine_to_previous", series_json (ls->cosine_to_previous, n));
      cJSON_AddItemToObject (o, "distance_from_init", series_json (ls->distance_from_init, n));
      cJSON_AddItemToObject (o, "rotation", series_json (ls->rotation, n));
      cJSON_AddItemToObject (o, "alpha", series_json (ls->alpha, n));
      cJSON_AddItemToObject (o, "stable_rank", series_json (ls->stable_rank, n));
      cJSON_AddItemToArray (layers, o);
    }
  cJSON *of = cJSON_AddObjectToObject (doc, "overfitting");
  cJSON_AddItemToObject (of, "by_validation", epoch_or_null (ri, ri->by_validation));
  cJSON_AddItemToObject (of, "by_weights", epoch_or_null (ri, ri->by_weights.index));
  cJSON_AddItemToObject (of, "agreement",
                         ri->by_validation >= 0 && ri->by_weights.index >= 0
                           ? cJSON_CreateNumber (s->epochs[ri->by_weights.index]
                                                 - s->epochs[ri->by_validation])
                           : cJSON_CreateNull ());
  cJSON_AddItemToObject (of, "generalization_gap", series_json (ri->gap, n));
  cJSON_AddStringToObject (of, "explanation", ri->explanation);

  char *out = cJSON_Print (doc);
  cJSON_Delete (doc);
  if (out == NULL)
    return fail_line (1, "--json", _("out of memory"));
  fputs (out, stdout);
  fputc ('\n', stdout);
  cJSON_free (out);
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

static int
print_csv (const run_info *ri)
{
  const cs_run_stats *s = ri->stats;
  printf ("epoch,layer,op,norm,relative_change,cosine_to_previous,distance_from_init,rotation,"
          "alpha,stable_rank,train_loss,val_loss,generalization_gap\n");
  char b[10][40];
  for (int32_t e = 0; e < s->n_epochs; e++)
    for (int32_t l = 0; l < s->n_layers; l++)
      {
        const cs_layer_series *ls = &s->layers[l];
        const cs_run_epoch *re = &ri->run->epochs[e];
        /* Node names are free text in ONNX: quote them as RFC 4180 says. */
        printf ("%d,\"", s->epochs[e]);
        for (const char *c = ls->name; *c; c++)
          printf (*c == '"' ? "\"\"" : "%c", *c);
        printf ("\",%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", ls->op,
                fmt (b[0], 40, ls->norm[e], 9, ""), fmt (b[1], 40, ls->relative_change[e], 9, ""),
                fmt (b[2], 40, ls->cosine_to_previous[e], 9, ""),
                fmt (b[3], 40, ls->distance_from_init[e], 9, ""),
                fmt (b[4], 40, ls->rotation[e], 9, ""), fmt (b[5], 40, ls->alpha[e], 9, ""),
                fmt (b[6], 40, ls->stable_rank[e], 9, ""), fmt (b[7], 40, re->train_loss, 9, ""),
                fmt (b[8], 40, re->val_loss, 9, ""), fmt (b[9], 40, ri->gap[e], 9, ""));
      }
  return 0;
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
print_epoch_label (const run_info *ri, const char *label, int width, int32_t index)
{
  printf ("  %s%*s ", label, width - utf8_len (label), "");
  if (index >= 0)
    printf (_("epoch %d\n"), ri->stats->epochs[index]);
  else
    printf ("%s\n", _("none"));
}

static int
print_text (const run_info *ri)
{
  const cs_run *run = ri->run;
  const cs_run_stats *s = ri->stats;
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
              fmt (b[4], 40, ri->gap[e], 4, "-"), fmt (b[5], 40, re->learning_rate, 3, "-"));
    }
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
  print_epoch_label (ri, by_val, width, ri->by_validation);
  print_epoch_label (ri, by_w, width, ri->by_weights.index);
  printf ("  %s\n", ri->explanation);
  return 0;
}

int
cli_cmd_run_info (int argc, char **argv)
{
  const char *path = NULL;
  bool json = false, csv = false;
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--json") == 0)
        json = true;
      else if (strcmp (a, "--csv") == 0)
        csv = true;
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          return 0;
        }
      else if (a[0] == '-' && a[1] != '\0')
        return fail_line (EXIT_USAGE, a, _("unknown option for 'run-info'"));
      else if (path != NULL)
        return fail_line (EXIT_USAGE, "run-info", _("expected one RUNDIR"));
      else
        path = a;
    }
  if (path == NULL)
    return fail_line (EXIT_USAGE, "run-info", _("missing RUNDIR"));
  if (json && csv)
    return fail_line (EXIT_USAGE, "--csv", _("cannot be combined with --json"));

  run_info ri = { 0 };
  cs_error err = { 0 };
  ri.run = cs_run_load (path, &err);
  if (ri.run == NULL)
    return fail_line (1, path, err.message);
  bool tty = isatty (STDERR_FILENO);
  cs_progress progress = { .progress = tty ? on_progress : NULL };
  ri.stats = cs_run_stats_load (ri.run, &progress, &err);
  if (tty)
    fprintf (stderr, "\r%40s\r", "");
  if (ri.stats == NULL || analyse (&ri, &err) != CS_OK)
    {
      int code = fail_line (1, path, err.message);
      run_info_free (&ri);
      return code;
    }
  int code = json ? print_json (&ri) : csv ? print_csv (&ri) : print_text (&ri);
  run_info_free (&ri);
  return code;
}
