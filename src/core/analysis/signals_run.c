/* One run's signals with the study's thresholds; run.json's optional metrics. */
#include "analysis/signals_run.h"

#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "analysis/run_stats.h"
#include "io/atomic_file.h"

/* Fitted by `convscope-cli study report` on studies/weights-bet (112 runs; its README.md):
 * change them only with a new study. */
static const double study_thresholds[CS_N_SIGNALS] = {
  [CS_SIGNAL_KNEE] = NAN,
  [CS_SIGNAL_EB] = 0.0475,
  [CS_SIGNAL_UPDATE_COSINE] = -0.186,
  [CS_SIGNAL_DISTANCE_GROWTH] = -0.158,
  [CS_SIGNAL_ROTATION_RATE] = -0.0555,
  [CS_SIGNAL_ALPHA] = -2.08,
  [CS_SIGNAL_FILTER_DISPERSION] = 2.21,
  [CS_SIGNAL_TRAIN_SATURATION] = 0.0935,
};

static const cs_signal_study_result study_result = {
  .best = CS_SIGNAL_FILTER_DISPERSION,
  .within_2 = 22,
  .held_out = 48,
  .never_within_2 = 22,
  .study = "weights-bet",
};

const cs_signal_study_result *
cs_signal_study_result_get (void)
{
  return &study_result;
}

double
cs_signal_study_threshold (cs_signal_kind k)
{
  return k >= 0 && k < CS_N_SIGNALS ? study_thresholds[k] : NAN;
}

static double
number_or_nan (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsNumber (v) && isfinite (v->valuedouble) ? v->valuedouble : NAN;
}

cs_status
cs_run_extras_load (const cs_run *run, double *test_loss, double *test_accuracy, double *eb, cs_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0;
  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      if (test_loss != NULL)
        test_loss[e] = NAN;
      if (test_accuracy != NULL)
        test_accuracy[e] = NAN;
      if (eb != NULL)
        eb[e] = NAN;
    }
  cs_status st = cs_file_read_all (run->path, 64u << 20, &data, &size, err);
  if (st != CS_OK)
    return st;
  cJSON *doc = cJSON_ParseWithLength ((const char *) data, size);
  free (data);
  if (doc == NULL)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not valid JSON", run->path);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive (doc, "epochs");
  if (cJSON_GetArraySize (list) != run->n_epochs)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: changed while it was read", run->path);
  int32_t e = 0;
  for (const cJSON *entry = st == CS_OK ? list->child : NULL; entry != NULL && e < run->n_epochs;
       entry = entry->next, e++)
    {
      if (test_loss != NULL)
        test_loss[e] = number_or_nan (entry, "test_loss");
      if (test_accuracy != NULL)
        test_accuracy[e] = number_or_nan (entry, "test_accuracy");
      if (eb != NULL)
        eb[e] = number_or_nan (entry, "eb_criterion");
    }
  cJSON_Delete (doc);
  return st;
}

cs_status
cs_run_signals_compute (const cs_run *run, const cs_progress *progress, cs_run_signals *out, cs_error *err)
{
  int32_t n = run->n_epochs;
  for (int k = 0; k < CS_N_SIGNALS; k++)
    out->onset[k] = -1;
  if (n < 1)
    return CS_OK;
  double *buf = malloc ((size_t) n * 5 * sizeof *buf);
  if (buf == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  double *train = buf, *lr = buf + n, *eb = buf + 2 * (size_t) n, *cosine = buf + 3 * (size_t) n,
         *score = buf + 4 * (size_t) n;
  for (int32_t e = 0; e < n; e++)
    {
      train[e] = run->epochs[e].train_loss;
      lr[e] = run->epochs[e].learning_rate;
    }
  cs_run_stats *stats = NULL;
  cs_status st = cs_run_extras_load (run, NULL, NULL, eb, err);
  if (st == CS_OK && (stats = cs_run_stats_load (run, progress, err)) == NULL)
    st = err != NULL ? err->code : CS_ERR_FORMAT;
  if (st == CS_OK)
    st = cs_update_cosine_series (run, cosine, err);
  if (st == CS_OK)
    {
      cs_signal_inputs in = { .n_epochs = n, .train_loss = train, .eb_criterion = eb, .update_cosine = cosine,
                              .learning_rate = lr, .stats = stats };
      for (int k = 0; k < CS_N_SIGNALS; k++)
        {
          cs_signal_score ((cs_signal_kind) k, &in, score);
          out->onset[k] = cs_signal_onset ((cs_signal_kind) k, &in, score, study_thresholds[k]);
        }
    }
  cs_run_stats_free (stats);
  free (buf);
  return st;
}
