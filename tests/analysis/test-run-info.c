/* Run statistics over a synthetic run directory (model.json + safetensors written with the io
 * API): values, the analysis.json cache and its invalidation, cancel, corrupt checkpoints; then
 * `run-info` (argv[1]: the program to run, argv[2]: its subcommand, if any) - text, --json
 * shape, --csv, errors. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/run_stats.h"
#include "base/rng.h"
#include "io/atomic_file.h"
#include "io/model_json.h"
#include "io/run.h"
#include "io/safetensors.h"
#include "testlib.h"

#define EPOCHS 8

static char dir[256];
static const char *subcommand = ""; /* "run-info" when the program is convscope-cli */
static float *saved[EPOCHS][2]; /* conv1.weight and fc.weight of every epoch */

static const double train_loss[EPOCHS] = { 2.3, 1.1, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1 };
static const double val_loss[EPOCHS] = { 2.3, 1.2, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0 };

static void
write_text (const char *name, const char *text)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  cs_error err = { 0 };
  CHECK (cs_file_write_all (path, text, strlen (text), &err) == CS_OK, "wrote %s %s", name,
         err.message);
}

static void
write_run_json (void)
{
  char buf[8192];
  size_t len = (size_t) snprintf (buf, sizeof buf,
    "{\"format\": \"convscope-run/1\", \"name\": \"synthetic\", \"model\": \"model.json\",\n"
    " \"input\": {\"channels\": 1, \"height\": 6, \"width\": 6, \"mean\": [0.5], \"std\": [0.25]},\n"
    " \"classes\": [\"a\", \"b\", \"c\"], \"epochs\": [");
  for (int e = 0; e < EPOCHS; e++)
    len += (size_t) snprintf (buf + len, sizeof buf - len,
      "%s\n  {\"epoch\": %d, \"checkpoint\": \"checkpoints/epoch-%04d.safetensors\", "
      "\"train_loss\": %g, \"train_accuracy\": 0.5, \"val_loss\": %g, \"val_accuracy\": 0.4, "
      "\"learning_rate\": 0.1, \"seconds\": 1.5}", e ? "," : "", e, e, train_loss[e], val_loss[e]);
  snprintf (buf + len, sizeof buf - len, "]}\n");
  write_text ("run.json", buf);
}

static cs_model *
build_run (void)
{
  snprintf (dir, sizeof dir, "/tmp/cs-analysis-XXXXXX");
  CHECK (mkdtemp (dir) != NULL, "temporary run directory");
  char path[512];
  snprintf (path, sizeof path, "%s/checkpoints", dir);
  mkdir (path, 0755);
  write_text ("model.json",
    "{\"format\": \"convscope-model/1\", \"input\": [1, 6, 6], \"nodes\": [\n"
    " {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 4, \"kernel\": 3, \"padding\": 1},\n"
    " {\"name\": \"relu1\", \"op\": \"relu\"},\n"
    " {\"name\": \"flat\", \"op\": \"flatten\"},\n"
    " {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 3}]}\n");
  snprintf (path, sizeof path, "%s/model.json", dir);
  cs_error err = { 0 };
  cs_model *m = cs_model_json_load (path, 42, &err);
  CHECK (m != NULL, "model.json loads (%s)", err.message);
  if (m == NULL)
    return NULL;
  int32_t pc = cs_model_param_index (m, "conv1.weight"), pf = cs_model_param_index (m, "fc.weight");
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  for (int e = 0; e < EPOCHS; e++)
    {
      if (e > 0)
        for (int32_t p = 0; p < m->graph->n_params; p++)
          {
            cs_tensor *t = &m->weights[p];
            for (int64_t i = 0; i < cs_tensor_numel (t); i++)
              t->data[i] += (float) (cs_rng_normal (&rng) * 0.05 / e);
          }
      snprintf (path, sizeof path, "%s/checkpoints/epoch-%04d.safetensors", dir, e);
      CHECK (cs_safetensors_save (m, path, &err) == CS_OK, "checkpoint %d saved (%s)", e,
             err.message);
      int32_t ps[2] = { pc, pf };
      for (int k = 0; k < 2; k++)
        {
          int64_t n = cs_tensor_numel (&m->weights[ps[k]]);
          saved[e][k] = malloc ((size_t) n * sizeof (float));
          memcpy (saved[e][k], m->weights[ps[k]].data, (size_t) n * sizeof (float));
        }
    }
  write_run_json ();
  return m;
}

static double
dist (const float *a, const float *b, int64_t n)
{
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    s += b != NULL ? ((double) a[i] - b[i]) * ((double) a[i] - b[i]) : (double) a[i] * a[i];
  return sqrt (s);
}

static void
test_stats (const cs_model *m)
{
  cs_error err = { 0 };
  cs_run *run = cs_run_load (dir, &err);
  CHECK (run != NULL, "run.json loads (%s)", err.message);
  if (run == NULL)
    return;
  char cache[512];
  snprintf (cache, sizeof cache, "%s/%s", dir, CS_ANALYSIS_FILE);

  cs_run_stats *s = cs_run_stats_load (run, NULL, &err);
  CHECK (s != NULL && !s->from_cache && s->n_epochs == EPOCHS && s->n_layers == 2,
         "computed: %d epochs, %d layers (%s)", s ? s->n_epochs : -1, s ? s->n_layers : -1,
         err.message);
  if (s == NULL)
    {
      cs_run_free (run);
      return;
    }
  CHECK (access (cache, F_OK) == 0, "analysis.json written");
  const cs_layer_series *conv = cs_run_stats_layer (s, "conv1"), *fc = cs_run_stats_layer (s, "fc");
  CHECK (conv != NULL && fc != NULL && strcmp (conv->op, "conv2d") == 0
         && strcmp (fc->op, "linear") == 0 && conv->n_filters == 4 && fc->n_filters == 3,
         "layers named by node, with op and filters");
  int64_t nc = cs_tensor_numel (&m->weights[cs_model_param_index (m, "conv1.weight")]);
  int64_t nf = cs_tensor_numel (&m->weights[cs_model_param_index (m, "fc.weight")]);
  int bad = 0;
  for (int e = 0; conv && fc && e < EPOCHS; e++)
    {
      bad += !CLOSE (conv->norm[e], dist (saved[e][0], NULL, nc), 1e-9, 1e-9);
      bad += !CLOSE (fc->distance_from_init[e], dist (saved[e][1], saved[0][1], nf), 1e-9, 1e-9);
      if (e == 0)
        bad += !isnan (conv->relative_change[0]) || !isnan (fc->cosine_to_previous[0])
               || !isnan (fc->filter_change[0]);
      else
        bad += !CLOSE (fc->relative_change[e], dist (saved[e][1], saved[e - 1][1], nf)
                                                 / dist (saved[e - 1][1], NULL, nf), 1e-9, 1e-7);
      /* conv1 has 9 eigenvalues (1 input channel): fewer than the minimum tail. */
      bad += !isnan (conv->alpha[e]) || !isfinite (fc->stable_rank[e]);
    }
  CHECK (bad == 0, "per-epoch values match the checkpoints (%d mismatches)", bad);

  cs_run_stats *c = cs_run_stats_load (run, NULL, &err);
  CHECK (c != NULL && c->from_cache, "second load: from the cache");
  if (c != NULL)
    {
      const cs_layer_series *cf = cs_run_stats_layer (c, "fc");
      bool same = cf != NULL && c->n_epochs == EPOCHS;
      for (int e = 0; same && e < EPOCHS; e++)
        same = (cf->norm[e] == fc->norm[e]) && (isnan (fc->relative_change[e])
                                               ? isnan (cf->relative_change[e])
                                               : cf->relative_change[e] == fc->relative_change[e])
               && cf->stable_rank[e] == fc->stable_rank[e];
      for (int64_t k = 0; same && k < EPOCHS * cf->n_filters; k++)
        same = isnan (fc->filter_change[k]) ? isnan (cf->filter_change[k])
                                            : (float) cf->filter_change[k] == fc->filter_change[k];
      CHECK (same, "cached values are the computed ones, bit for bit");
    }
  cs_run_stats_free (c);

  /* A changed checkpoint (new weights, same size): its mtime changes, the cache is stale. */
  cs_model *m3 = cs_model_clone (m, &err);
  for (int32_t p = 0; m3 && p < m3->graph->n_params; p++)
    for (int64_t i = 0; i < cs_tensor_numel (&m3->weights[p]); i++)
      m3->weights[p].data[i] *= 2.0f;
  char path[512];
  snprintf (path, sizeof path, "%s/checkpoints/epoch-%04d.safetensors", dir, EPOCHS - 1);
  CHECK (m3 && cs_safetensors_save (m3, path, &err) == CS_OK, "checkpoint rewritten");
  struct timespec ts[2] = { { .tv_sec = 1000000000, .tv_nsec = 0 },
                            { .tv_sec = 1000000000, .tv_nsec = 0 } };
  utimensat (AT_FDCWD, path, ts, 0);
  c = cs_run_stats_load (run, NULL, &err);
  CHECK (c != NULL && !c->from_cache
         && CLOSE (cs_run_stats_layer (c, "fc")->norm[EPOCHS - 1], 2.0 * fc->norm[EPOCHS - 1],
                   1e-6, 1e-6), "changed checkpoint: recomputed (norm doubled)");
  cs_run_stats_free (c);
  c = cs_run_stats_load (run, NULL, &err);
  CHECK (c != NULL && c->from_cache, "and cached again");
  cs_run_stats_free (c);
  /* Restore the original last epoch for the CLI tests. */
  CHECK (cs_safetensors_save (m, path, &err) == CS_OK, "checkpoint restored");

  write_text (CS_ANALYSIS_FILE, "{\"format\": \"convscope-analysis/1\", \"key\": 1, \"layers\": [");
  c = cs_run_stats_load (run, NULL, &err);
  CHECK (c != NULL && !c->from_cache, "a damaged cache is recomputed, not an error");
  cs_run_stats_free (c);

  volatile int cancel = 1;
  cs_progress p = { .cancel = &cancel };
  c = cs_run_stats_compute (run, &p, &err);
  CHECK (c == NULL && err.code == CS_ERR_CANCELLED, "cancel: %s", err.message);

  cs_model_free (m3);
  cs_run_stats_free (s);
  cs_run_free (run);
}

/* A file's text, NUL-terminated ("" when unreadable). */
static char *
slurp (const char *path)
{
  uint8_t *d;
  size_t n;
  if (cs_file_read_all (path, 1 << 26, &d, &n, NULL) != CS_OK)
    return strdup ("");
  char *s = malloc (n + 1);
  memcpy (s, d, n);
  s[n] = '\0';
  free (d);
  return s;
}

/* Runs the program with args; stdout and stderr into files; returns the exit code. */
static int
run_cli (const char *prog, const char *args, char **out, char **errtext)
{
  char cmd[2048], po[512], pe[512];
  snprintf (po, sizeof po, "%s.out", dir);
  snprintf (pe, sizeof pe, "%s.err", dir);
  snprintf (cmd, sizeof cmd, "'%s' %s %s >'%s' 2>'%s'", prog, subcommand, args, po, pe);
  int st = system (cmd);
  *out = slurp (po);
  *errtext = slurp (pe);
  unlink (po);
  unlink (pe);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static bool
one_error_line (const char *e)
{
  const char *nl = strchr (e, '\n');
  return strncmp (e, "convscope-cli: error: ", 22) == 0 && nl != NULL && nl[1] == '\0';
}

static void
test_cli (const char *prog)
{
  char args[1024], *out, *err;
  snprintf (args, sizeof args, "'%s'", dir);
  int code = run_cli (prog, args, &out, &err);
  CHECK (code == 0 && strstr (out, "layer conv1 (conv2d, 4 filters)") && strstr (out, "overfitting")
         && strstr (out, "by validation:  epoch 3"), "text: exit %d", code);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s' --json", dir);
  code = run_cli (prog, args, &out, &err);
  cJSON *doc = cJSON_Parse (out);
  CHECK (code == 0 && doc != NULL, "--json: exit %d, parses", code);
  const cJSON *epochs = cJSON_GetObjectItem (doc, "epochs");
  const cJSON *layers = cJSON_GetObjectItem (doc, "layers");
  const cJSON *of = cJSON_GetObjectItem (doc, "overfitting");
  CHECK (cJSON_GetArraySize (epochs) == EPOCHS
         && cJSON_IsNumber (cJSON_GetObjectItem (cJSON_GetArrayItem (epochs, 2), "val_loss"))
         && cJSON_IsString (cJSON_GetObjectItem (cJSON_GetArrayItem (epochs, 2), "checkpoint")),
         "--json: epochs as in run.json");
  bool shape = cJSON_GetArraySize (layers) == 2;
  static const char *keys[] = { "norm", "relative_change", "cosine_to_previous",
                                "distance_from_init", "alpha", "stable_rank" };
  const cJSON *l;
  cJSON_ArrayForEach (l, layers)
    {
      shape = shape && cJSON_IsString (cJSON_GetObjectItem (l, "name"));
      for (int k = 0; k < 6; k++)
        shape = shape && cJSON_GetArraySize (cJSON_GetObjectItem (l, keys[k])) == EPOCHS;
      shape = shape && cJSON_IsNull (cJSON_GetArrayItem (cJSON_GetObjectItem (l, "relative_change"), 0))
              && cJSON_IsNull (cJSON_GetArrayItem (cJSON_GetObjectItem (l, "cosine_to_previous"), 0))
              && cJSON_IsNumber (cJSON_GetArrayItem (cJSON_GetObjectItem (l, "relative_change"), 1));
    }
  CHECK (shape && strcmp (cJSON_GetObjectItem (cJSON_GetArrayItem (layers, 0), "name")->valuestring,
                          "conv1") == 0, "--json: layers with one value per epoch, null first");
  const cJSON *bv = cJSON_GetObjectItem (of, "by_validation");
  const cJSON *bw = cJSON_GetObjectItem (of, "by_weights");
  const cJSON *gap = cJSON_GetObjectItem (of, "generalization_gap");
  CHECK (cJSON_IsNumber (bv) && bv->valueint == 3 && (cJSON_IsNumber (bw) || cJSON_IsNull (bw))
         && cJSON_GetArraySize (gap) == EPOCHS
         && fabs (cJSON_GetArrayItem (gap, 6)->valuedouble - (0.9 - 0.15)) < 1e-9
         && cJSON_IsString (cJSON_GetObjectItem (of, "explanation")),
         "--json: overfitting by_validation 3, by_weights, gap, explanation");
  cJSON_Delete (doc);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s' --csv", dir);
  code = run_cli (prog, args, &out, &err);
  int lines = 0;
  for (const char *c = out; *c; c++)
    lines += *c == '\n';
  CHECK (code == 0 && strncmp (out, "epoch,layer,op,norm,relative_change", 35) == 0
         && lines == 1 + EPOCHS * 2 && strstr (out, "\n0,\"conv1\",conv2d,"),
         "--csv: header and one row per epoch and layer (%d lines)", lines);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s/missing'", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 1 && one_error_line (err) && *out == '\0', "missing run: exit %d, %s", code, err);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s' --json --csv", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 2 && one_error_line (err), "--json with --csv: usage error %d", code);
  free (out);
  free (err);
  code = run_cli (prog, "", &out, &err);
  CHECK (code == 2 && one_error_line (err), "no RUNDIR: usage error %d", code);
  free (out);
  free (err);

  /* A truncated checkpoint: the cache no longer matches, the analysis reads it and fails. */
  char path[512];
  snprintf (path, sizeof path, "%s/checkpoints/epoch-0005.safetensors", dir);
  CHECK (truncate (path, 100) == 0, "checkpoint truncated");
  snprintf (args, sizeof args, "'%s' --json", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 1 && one_error_line (err) && strstr (err, "epoch-0005") && *out == '\0',
         "corrupt checkpoint: exit %d, %s", code, err);
  free (out);
  free (err);
}

int
main (int argc, char **argv)
{
  cs_model *m = build_run ();
  if (m != NULL)
    {
      test_stats (m);
      if (argc > 2)
        subcommand = argv[2];
      if (argc > 1)
        test_cli (argv[1]);
    }
  cs_model_free (m);
  for (int e = 0; e < EPOCHS; e++)
    for (int k = 0; k < 2; k++)
      free (saved[e][k]);
  /* CS_KEEP_RUN=1 keeps the synthetic run for a look at it. */
  char cmd[512];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (getenv ("CS_KEEP_RUN") != NULL)
    TEST_NOTE ("kept %s", dir);
  else if (system (cmd) != 0)
    TEST_NOTE ("could not remove %s", dir);
  return test_done ();
}
