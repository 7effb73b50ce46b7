/* Run statistics over a synthetic run directory (model.json + safetensors written with the io
 * API): values, the analysis.json cache and its invalidation, cancel; then `run-info` (argv[1]:
 * the program to run, argv[2]: its subcommand, if any) - text, --json shape, --csv, errors, and
 * a missing and a truncated checkpoint. */
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
#include "io/atomic_file.h"
#include "io/run.h"
#include "io/safetensors.h"
#include "synthetic-run.h"
#include "testlib.h"

#define EPOCHS SYNTH_EPOCHS

static char dir[256];
static const char *subcommand = ""; /* "run-info" when the program is convscope-cli */
static float *saved[EPOCHS][2]; /* conv1.weight and fc.weight of every epoch */

static void
write_text (const char *name, const char *text)
{
  synth_write_text (dir, name, text);
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

static int
run_cli (const char *prog, const char *args, char **out, char **errtext)
{
  return synth_run_cli (dir, prog, subcommand, args, out, errtext);
}

#define one_error_line synth_one_error_line

/* Layer l's series `key` at epoch e in a run-info document. */
static const cJSON *
series_at (const cJSON *doc, int l, const char *key, int e)
{
  return cJSON_GetArrayItem (cJSON_GetObjectItem (cJSON_GetArrayItem (cJSON_GetObjectItem (doc, "layers"), l), key), e);
}

/* A missing and a truncated checkpoint: those epochs are unavailable, with the reason; the
 * rest of the run is analysed. */
static void
test_damaged (const char *prog)
{
  char path[512], args[1024], *out, *err;
  snprintf (path, sizeof path, "%s/checkpoints/epoch-0005.safetensors", dir);
  CHECK (truncate (path, 100) == 0, "checkpoint 5 truncated");
  snprintf (path, sizeof path, "%s/checkpoints/epoch-0002.safetensors", dir);
  CHECK (unlink (path) == 0, "checkpoint 2 deleted");

  snprintf (args, sizeof args, "'%s' --json", dir);
  int code = run_cli (prog, args, &out, &err);
  cJSON *doc = cJSON_Parse (out);
  const cJSON *epochs = cJSON_GetObjectItem (doc, "epochs");
  const cJSON *e2 = cJSON_GetObjectItem (cJSON_GetArrayItem (epochs, 2), "checkpoint_error");
  const cJSON *e5 = cJSON_GetObjectItem (cJSON_GetArrayItem (epochs, 5), "checkpoint_error");
  CHECK (code == 0 && doc != NULL && cJSON_GetArraySize (epochs) == EPOCHS, "damaged run: --json "
         "exit %d (%s)", code, err);
  CHECK (cJSON_IsString (e2) && strstr (e2->valuestring, "epoch-0002") != NULL
         && cJSON_IsString (e5) && strstr (e5->valuestring, "epoch-0005") != NULL,
         "checkpoint_error names the file: \"%s\", \"%s\"", cJSON_IsString (e2) ? e2->valuestring : "?",
         cJSON_IsString (e5) ? e5->valuestring : "?");
  int others = 0;
  for (int e = 0; e < EPOCHS; e++)
    others += e != 2 && e != 5
              && cJSON_GetObjectItem (cJSON_GetArrayItem (epochs, e), "checkpoint_error") != NULL;
  CHECK (others == 0, "no other epoch is marked");
  bool nulls = true;
  static const char *keys[] = { "norm", "relative_change", "distance_from_init", "alpha", "stable_rank" };
  for (int l = 0; l < 2; l++)
    for (int k = 0; k < 5; k++)
      nulls = nulls && cJSON_IsNull (series_at (doc, l, keys[k], 2))
              && cJSON_IsNull (series_at (doc, l, keys[k], 5));
  CHECK (nulls, "statistics of the unavailable epochs are null");
  CHECK (cJSON_IsNumber (series_at (doc, 1, "norm", 4)) && cJSON_IsNumber (series_at (doc, 1, "norm", 6))
         && cJSON_IsNumber (series_at (doc, 1, "relative_change", 4))
         && cJSON_IsNull (series_at (doc, 1, "relative_change", 6))
         && cJSON_IsNull (series_at (doc, 1, "relative_change", 3))
         && cJSON_IsNumber (series_at (doc, 1, "relative_change", 7)),
         "the others have statistics; a change across a hole is null, not a two-epoch change");
  const cJSON *bv = cJSON_GetObjectItem (cJSON_GetObjectItem (doc, "overfitting"), "by_validation");
  CHECK (cJSON_IsNumber (bv) && bv->valueint == 3, "the validation onset still holds");
  cJSON_Delete (doc);
  char *computed = out;
  free (err);

  /* The second time from the cache, which records the holes: the same document. */
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 0 && strcmp (out, computed) == 0, "from the cache: the same document");
  free (computed);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s'", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 0 && strstr (out, "note: epoch 2 is unavailable") != NULL
         && strstr (out, "note: epoch 5 is unavailable") != NULL
         && strstr (out, "by validation:  epoch 3") != NULL, "text: exit %d, a note per hole", code);
  free (out);
  free (err);

  snprintf (args, sizeof args, "'%s' --csv", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 0 && strstr (out, ",checkpoint_error\n") != NULL
         && strstr (out, "\n5,\"fc\",linear,,") != NULL, "--csv: empty statistics, the reason last");
  free (out);
  free (err);

  /* run.json itself unreadable is still an error. */
  write_text ("run.json", "{\"format\": \"convscope-run/1\", \"epochs\": [");
  snprintf (args, sizeof args, "'%s' --json", dir);
  code = run_cli (prog, args, &out, &err);
  CHECK (code == 1 && one_error_line (err) && strstr (err, "run.json") && *out == '\0',
         "unreadable run.json: exit %d, %s", code, err);
  free (out);
  free (err);
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

  test_damaged (prog);
}

int
main (int argc, char **argv)
{
  cs_model *m = synth_run_build (dir, saved, "[\"a\", \"b\", \"c\"]");
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
  synth_run_remove (dir);
  return test_done ();
}
