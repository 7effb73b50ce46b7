/* Study reports: loading the finished runs, fitting thresholds on one half, scoring both. */
#include "analysis/study_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/run_stats.h"
#include "analysis/signals_run.h"
#include "analysis/study_spec.h"
#include "io/atomic_file.h"
#include "io/run.h"

static cJSON *
read_json (const char *path, cs_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0;
  if (cs_file_read_all (path, 64u << 20, &data, &size, err) != CS_OK)
    return NULL;
  cJSON *j = cJSON_ParseWithLength ((const char *) data, size);
  free (data);
  if (j == NULL)
    cs_error_set (err, CS_ERR_FORMAT, "%s: not valid JSON", path);
  return j;
}

static double
number_or_nan (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsNumber (v) && isfinite (v->valuedouble) ? v->valuedouble : NAN;
}

static void
run_clear (cs_study_run *r)
{
  free (r->dir);
  free (r->config);
  double *series[] = { r->train_loss, r->val_loss, r->val_accuracy, r->test_loss, r->test_accuracy, r->eb, r->lr,
                       r->update_cosine };
  for (size_t i = 0; i < sizeof series / sizeof series[0]; i++)
    free (series[i]);
  for (int k = 0; k < CS_N_SIGNALS; k++)
    free (r->score[k]);
}

/* The grid point's settings without its seed: runs that differ only by seed share it. */
static char *
config_of (const cJSON *point)
{
  char buf[512];
  const cJSON *arch = cJSON_GetObjectItemCaseSensitive (point, "arch");
  const cJSON *opt = cJSON_GetObjectItemCaseSensitive (point, "optimizer");
  const cJSON *sched = cJSON_GetObjectItemCaseSensitive (point, "lr_schedule");
  const char *a = cJSON_IsString (arch) ? arch->valuestring : "?";
  const char *base = strrchr (a, '/');
  snprintf (buf, sizeof buf, "%s n=%.0f %s lr=%g noise=%g wd=%g %s%s", base != NULL ? base + 1 : a,
            number_or_nan (point, "train_subset"), cJSON_IsString (opt) ? opt->valuestring : "?",
            number_or_nan (point, "lr"), number_or_nan (point, "label_noise"), number_or_nan (point, "weight_decay"),
            cJSON_IsString (sched) ? sched->valuestring : "?",
            cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (point, "augment")) ? " augment" : "");
  return strdup (buf);
}

static bool
alloc_series (cs_study_run *r, int32_t n)
{
  double **series[] = { &r->train_loss, &r->val_loss, &r->val_accuracy, &r->test_loss, &r->test_accuracy, &r->eb,
                        &r->lr, &r->update_cosine };
  for (size_t i = 0; i < sizeof series / sizeof series[0]; i++)
    if ((*series[i] = malloc ((size_t) n * sizeof (double))) == NULL)
      return false;
  for (int k = 0; k < CS_N_SIGNALS; k++)
    if ((r->score[k] = malloc ((size_t) n * sizeof (double))) == NULL)
      return false;
  return true;
}

/* One finished run: its metrics (run.json, the optional ones included), statistics, update
 * cosines, truths and scores. */
static cs_status
load_run (const char *path, int32_t epochs, cs_study_run *r, cs_error *err)
{
  cs_run *run = cs_run_load (path, err);
  if (run == NULL)
    return err != NULL ? err->code : CS_ERR_FORMAT;
  cs_status st = CS_OK;
  int32_t n = run->n_epochs;
  cs_run_stats *stats = NULL;
  if (n != epochs + 1)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: %d of %d epochs written", path, n - 1, epochs);
  for (int32_t e = 0; st == CS_OK && e < n; e++)
    if (run->epochs[e].epoch != e)
      st = cs_error_set (err, CS_ERR_FORMAT, "%s: epochs are not 0, 1, 2, ...", path);
  if (st == CS_OK && !alloc_series (r, n))
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_run_extras_load (run, r->test_loss, r->test_accuracy, r->eb, err);
  for (int32_t e = 0; st == CS_OK && e < n; e++)
    {
      r->train_loss[e] = run->epochs[e].train_loss;
      r->val_loss[e] = run->epochs[e].val_loss;
      r->val_accuracy[e] = run->epochs[e].val_accuracy;
      r->lr[e] = run->epochs[e].learning_rate;
    }
  r->n_epochs = n;
  if (st == CS_OK && (stats = cs_run_stats_load (run, NULL, err)) == NULL)
    st = err != NULL ? err->code : CS_ERR_FORMAT;
  if (st == CS_OK)
    st = cs_update_cosine_series (run, r->update_cosine, err);
  if (st == CS_OK)
    {
      cs_truths_compute (r->train_loss, r->val_loss, r->test_loss, n, r->truth);
      cs_signal_inputs in = { .n_epochs = n, .train_loss = r->train_loss, .eb_criterion = r->eb,
                              .update_cosine = r->update_cosine, .learning_rate = r->lr, .stats = stats };
      for (int k = 0; k < CS_N_SIGNALS; k++)
        {
          cs_signal_score ((cs_signal_kind) k, &in, r->score[k]);
          r->onset[k] = cs_signal_fixed_rule ((cs_signal_kind) k)
                          ? cs_signal_onset ((cs_signal_kind) k, &in, r->score[k], NAN)
                          : -1;
        }
    }
  cs_run_stats_free (stats);
  cs_run_free (run);
  return st;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int32_t n)
{
  if (n == 0)
    return NAN;
  qsort (v, (size_t) n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Where a run stops under an onset: there, or at its last epoch when the signal never fired. */
static int32_t
stop_epoch (const cs_study_run *r, int32_t onset)
{
  return onset >= 0 ? onset : r->n_epochs - 1;
}

static double
regret (const double *acc, int32_t n, int32_t stop)
{
  double best = -INFINITY;
  for (int32_t t = 1; t < n; t++)
    if (isfinite (acc[t]) && acc[t] > best)
      best = acc[t];
  return isfinite (best) && isfinite (acc[stop]) ? 100.0 * (best - acc[stop]) : NAN;
}

/* Scores the onsets onset[i] (an epoch, -1 never) of the runs in one half. */
static void
score_half (const cs_study_report *rep, const int32_t *onset, cs_study_half half, cs_study_score *s)
{
  memset (s, 0, sizeof *s);
  double *tmp = malloc ((size_t) (rep->n_runs > 0 ? rep->n_runs : 1) * 2 * sizeof *tmp);
  double *tmp2 = tmp != NULL ? tmp + rep->n_runs : NULL;
  if (tmp == NULL)
    return;
  for (int tr = 0; tr < CS_N_TRUTHS; tr++)
    {
      int32_t m = 0;
      for (int32_t i = 0; i < rep->n_runs; i++)
        {
          const cs_study_run *r = &rep->runs[i];
          if (r->half != half || r->truth[tr] < 0)
            continue;
          /* A signal that never fired lets training run to the end: it is scored as stopping
           * there, which is right when the truth is the last epoch (no overfitting seen). */
          int32_t d = abs (stop_epoch (r, onset[i]) - r->truth[tr]);
          s->n_truth[tr]++;
          for (int k = 0; k < CS_STUDY_TOLERANCES; k++)
            s->within[tr][k] += d <= k + 1;
          tmp[m++] = d;
        }
      s->median_abs_delta[tr] = median (tmp, m);
    }
  int32_t mo = 0;
  for (int32_t i = 0; i < rep->n_runs; i++)
    {
      const cs_study_run *r = &rep->runs[i];
      int32_t tr = r->truth[CS_STUDY_FIT_TRUTH];
      if (r->half != half || tr < 0 || tr > r->n_epochs - 1 - CS_STUDY_OVERFIT_MARGIN)
        continue;
      int32_t d = abs (stop_epoch (r, onset[i]) - tr);
      s->n_overfit++;
      for (int k = 0; k < CS_STUDY_TOLERANCES; k++)
        s->within_overfit[k] += d <= k + 1;
      tmp[mo++] = d;
    }
  s->median_abs_delta_overfit = median (tmp, mo);
  int32_t mv = 0, mt = 0;
  double sv = 0.0, stt = 0.0;
  for (int32_t i = 0; i < rep->n_runs; i++)
    {
      const cs_study_run *r = &rep->runs[i];
      if (r->half != half)
        continue;
      s->n_runs++;
      s->n_fired += onset[i] >= 0;
      double v = regret (r->val_accuracy, r->n_epochs, stop_epoch (r, onset[i]));
      double t = regret (r->test_accuracy, r->n_epochs, stop_epoch (r, onset[i]));
      if (isfinite (v))
        sv += (tmp[mv++] = v);
      if (isfinite (t))
        stt += (tmp2[mt++] = t);
    }
  s->regret_val_mean = mv > 0 ? sv / mv : NAN;
  s->regret_test_mean = mt > 0 ? stt / mt : NAN;
  s->regret_val_median = median (tmp, mv);
  s->regret_test_median = median (tmp2, mt);
  free (tmp);
}

static void
onsets_at (const cs_study_report *rep, int k, double threshold, int32_t *onset)
{
  for (int32_t i = 0; i < rep->n_runs; i++)
    {
      const cs_study_run *r = &rep->runs[i];
      cs_signal_inputs in = { .n_epochs = r->n_epochs };
      onset[i] = cs_signal_onset ((cs_signal_kind) k, &in, r->score[k], threshold);
    }
}

/* The threshold with the most fit-half runs within +-2 epochs of the fit truth (ties: the
 * smaller median distance, then the smaller threshold), over every score value the fit half
 * takes. */
static double
fit_threshold (const cs_study_report *rep, int k, int32_t *onset)
{
  double best_t = cs_signal_default_threshold ((cs_signal_kind) k);
  int32_t best_within = -1;
  double best_med = INFINITY;
  for (int32_t i = 0; i < rep->n_runs; i++)
    {
      const cs_study_run *r = &rep->runs[i];
      if (r->half != CS_HALF_FIT)
        continue;
      for (int32_t t = 2; t < r->n_epochs; t++)
        {
          double cand = r->score[k][t];
          if (!isfinite (cand))
            continue;
          onsets_at (rep, k, cand, onset);
          cs_study_score s;
          score_half (rep, onset, CS_HALF_FIT, &s);
          int32_t w = s.within[CS_STUDY_FIT_TRUTH][1];
          double med = s.median_abs_delta[CS_STUDY_FIT_TRUTH];
          if (w > best_within || (w == best_within && (med < best_med || (med == best_med && cand < best_t))))
            {
              best_within = w;
              best_med = med;
              best_t = cand;
            }
        }
    }
  return best_t;
}

/* Alternates the runs of each grid point between the halves, in index order: both halves see
 * every configuration and no run is scored with a threshold it helped to fit. */
static void
assign_halves (cs_study_report *rep)
{
  for (int32_t i = 0; i < rep->n_runs; i++)
    {
      int32_t earlier = 0;
      for (int32_t j = 0; j < i; j++)
        earlier += strcmp (rep->runs[j].config, rep->runs[i].config) == 0;
      rep->runs[i].half = earlier % 2 == 0 ? CS_HALF_FIT : CS_HALF_HELD_OUT;
    }
}

static void
fit_and_score (cs_study_report *rep, int32_t *onset)
{
  int32_t best_w = -1;
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      cs_study_signal *sig = &rep->signals[k];
      sig->kind = (cs_signal_kind) k;
      sig->fixed_rule = cs_signal_fixed_rule (sig->kind);
      if (sig->fixed_rule)
        {
          sig->threshold = NAN;
          for (int32_t i = 0; i < rep->n_runs; i++)
            onset[i] = rep->runs[i].onset[k];
        }
      else
        {
          sig->threshold = fit_threshold (rep, k, onset);
          onsets_at (rep, k, sig->threshold, onset);
        }
      for (int32_t i = 0; i < rep->n_runs; i++)
        rep->runs[i].onset[k] = onset[i];
      for (int h = 0; h < 2; h++)
        score_half (rep, onset, (cs_study_half) h, &sig->half[h]);
      int32_t w = sig->half[CS_HALF_HELD_OUT].within[CS_STUDY_FIT_TRUTH][1] * (rep->n_runs + 1)
                  + sig->half[CS_HALF_HELD_OUT].within_overfit[1];
      if (w > best_w)
        {
          best_w = w;
          rep->best = sig->kind;
        }
    }
  for (int tr = 0; tr < CS_N_TRUTHS; tr++)
    {
      for (int32_t i = 0; i < rep->n_runs; i++)
        onset[i] = rep->runs[i].truth[tr];
      for (int h = 0; h < 2; h++)
        score_half (rep, onset, (cs_study_half) h, &rep->truth_stop[tr][h]);
    }
  for (int32_t i = 0; i < rep->n_runs; i++)
    onset[i] = -1;
  for (int h = 0; h < 2; h++)
    score_half (rep, onset, (cs_study_half) h, &rep->never_stop[h]);
}

static cs_status
load_runs (cs_study_report *rep, const cJSON *study, const char *path, const cs_progress *progress,
           cs_error *err)
{
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive (study, "spec");
  const cJSON *points = cJSON_GetObjectItemCaseSensitive (study, "points");
  double epochs = number_or_nan (spec, "epochs");
  int32_t n = cJSON_GetArraySize (points);
  if (!cJSON_IsArray (points) || !(epochs >= 1) || n > CS_STUDY_MAX_POINTS)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: no \"points\" list or no \"spec\".\"epochs\"", path);
  rep->runs = calloc ((size_t) (n > 0 ? n : 1), sizeof *rep->runs);
  if (rep->runs == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t i = 0; i < n; i++)
    {
      if (cs_progress_cancelled (progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "%s: report cancelled", rep->dir);
      const cJSON *p = cJSON_GetArrayItem (points, i);
      const cJSON *d = cJSON_GetObjectItemCaseSensitive (p, "dir");
      if (!cJSON_IsString (d) || strchr (d->valuestring, '/') != NULL || d->valuestring[0] == '.')
        return cs_error_set (err, CS_ERR_FORMAT, "%s: point %d has no plain \"dir\"", path, i);
      char run_dir[4096];
      snprintf (run_dir, sizeof run_dir, "%s/%s", rep->dir, d->valuestring);
      cs_study_run *r = &rep->runs[rep->n_runs];
      cs_error e = { 0 };
      if (load_run (run_dir, (int32_t) epochs, r, &e) != CS_OK)
        {
          run_clear (r);
          memset (r, 0, sizeof *r);
          rep->n_skipped++;
          cs_progress_report (progress, (double) (i + 1) / n);
          continue;
        }
      r->dir = strdup (d->valuestring);
      r->config = config_of (p);
      r->index = i;
      r->label_noise = number_or_nan (p, "label_noise");
      if (r->dir == NULL || r->config == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      rep->n_runs++;
      cs_progress_report (progress, (double) (i + 1) / n);
    }
  if (rep->n_runs < 2)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: %d finished runs; a report needs at least two", rep->dir,
                         rep->n_runs);
  return CS_OK;
}

cs_study_report *
cs_study_report_compute (const char *dir, const cs_progress *progress, cs_error *err)
{
  cs_study_report *rep = calloc (1, sizeof *rep);
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, CS_STUDY_FILE);
  if (rep == NULL || (rep->dir = strdup (dir)) == NULL)
    {
      cs_study_report_free (rep);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  cJSON *study = read_json (path, err);
  cs_status st = study != NULL ? load_runs (rep, study, path, progress, err) : CS_ERR_FORMAT;
  cJSON_Delete (study);
  int32_t *onset = st == CS_OK ? malloc ((size_t) rep->n_runs * sizeof *onset) : NULL;
  if (st == CS_OK && onset == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    {
      assign_halves (rep);
      fit_and_score (rep, onset);
    }
  free (onset);
  if (st != CS_OK)
    {
      cs_study_report_free (rep);
      return NULL;
    }
  return rep;
}

void
cs_study_report_free (cs_study_report *r)
{
  if (r == NULL)
    return;
  for (int32_t i = 0; i < r->n_runs; i++)
    run_clear (&r->runs[i]);
  free (r->runs);
  free (r->dir);
  free (r);
}
