/* The analysis of a training run: series, gap, both onsets, explanation. */
#include "analysis/run_analysis.h"

#include "analysis/example_measures.h"
#include "analysis/history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cs_run_analysis_free (cs_run_analysis *a)
{
  if (a == NULL)
    return;
  cs_run_stats_free (a->stats);
  free (a->gap);
  free (a->weight_signal);
  free (a->early_auroc);
  free (a);
}

cs_status
cs_run_analysis_attach_history (cs_run_analysis *a, const cs_history *h, cs_error *err)
{
  if (h->n_epochs != a->run->n_epochs)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: the example history has %d epochs, the run %d",
                         a->run->path, h->n_epochs, a->run->n_epochs);
  double *auroc = malloc ((size_t) h->n_epochs * sizeof *auroc);
  if (auroc == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  cs_history_early_auroc (h, auroc);
  free (a->early_auroc);
  a->early_auroc = auroc;
  return CS_OK;
}

int32_t
cs_run_analysis_epoch (const cs_run_analysis *a, int32_t index)
{
  return index >= 0 && index < a->run->n_epochs ? a->run->epochs[index].epoch : -1;
}

const char *
cs_run_analysis_checkpoint_error (const cs_run_analysis *a, int32_t index)
{
  return index >= 0 && index < a->stats->n_epochs ? a->stats->checkpoint_error[index] : NULL;
}

/* The onsets from the series; the caller checked that the statistics cover the run's epochs. */
static cs_status
analyse (cs_run_analysis *a, cs_error *err)
{
  const cs_run *run = a->run;
  const cs_run_stats *s = a->stats;
  int32_t n = run->n_epochs, nl = s->n_layers;
  size_t cells = (size_t) (n > 0 ? n : 1);
  double *train = malloc (cells * sizeof *train), *val = malloc (cells * sizeof *val);
  double *lr = malloc (cells * sizeof *lr);
  double *rc = malloc ((size_t) (nl > 0 ? nl : 1) * cells * sizeof *rc);
  a->gap = malloc (cells * sizeof *a->gap);
  a->weight_signal = malloc (cells * sizeof *a->weight_signal);
  cs_status st = CS_OK;
  if (train == NULL || val == NULL || lr == NULL || rc == NULL || a->gap == NULL
      || a->weight_signal == NULL)
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
    memcpy (rc + (size_t) l * (size_t) n, s->layers[l].relative_change, (size_t) n * sizeof *rc);
  cs_generalization_gap (train, val, n, a->gap);
  a->by_validation = cs_onset_by_validation (train, val, n, CS_ONSET_PATIENCE, CS_ONSET_MIN_DELTA);
  cs_weight_series ws = { .n_epochs = n, .n_layers = nl, .relative_change = rc,
                          .learning_rate = all_lr ? lr : NULL };
  a->by_weights = cs_onset_by_weights (&ws);
  cs_onset_weight_signal (&ws, a->weight_signal);
  cs_onset_explain (s->epochs, n, a->by_validation, &a->by_weights, a->explanation,
                    sizeof a->explanation);
  if (s->n_unavailable > 0)
    {
      /* Said in the explanation too: the weight rule saw fewer epochs than the run has. */
      size_t len = strlen (a->explanation);
      len += (size_t) snprintf (a->explanation + len, sizeof a->explanation - len,
                                " Unavailable: %d checkpoint%s could not be read (epoch%s",
                                s->n_unavailable, s->n_unavailable == 1 ? "" : "s",
                                s->n_unavailable == 1 ? "" : "s");
      int listed = 0;
      for (int32_t e = 0; e < n && len < sizeof a->explanation; e++)
        if (s->checkpoint_error[e] != NULL)
          len += (size_t) snprintf (a->explanation + len, sizeof a->explanation - len, "%s %d",
                                    listed++ ? "," : "", s->epochs[e]);
      if (len < sizeof a->explanation)
        snprintf (a->explanation + len, sizeof a->explanation - len,
                  "); their weight statistics are left out.");
    }

done:
  free (train);
  free (val);
  free (lr);
  free (rc);
  return st;
}

cs_run_analysis *
cs_run_analysis_new (const cs_run *run, cs_run_stats *stats, cs_error *err)
{
  cs_run_analysis *a = calloc (1, sizeof *a);
  if (a == NULL)
    {
      cs_run_stats_free (stats);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  a->run = run;
  a->stats = stats;
  a->by_validation = -1;
  a->by_weights.index = -1;
  /* Statistics always come sized from the run; anything else is a caller's mismatch. */
  if (stats == NULL || stats->n_epochs != run->n_epochs)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "%s: the statistics do not cover the run's %d epochs",
                    run->path, run->n_epochs);
      cs_run_analysis_free (a);
      return NULL;
    }
  for (int32_t e = 0; e < run->n_epochs; e++)
    if (stats->epochs[e] != run->epochs[e].epoch)
      {
        cs_error_set (err, CS_ERR_ARGUMENT, "%s: the statistics are of other epochs", run->path);
        cs_run_analysis_free (a);
        return NULL;
      }
  if (analyse (a, err) != CS_OK)
    {
      cs_run_analysis_free (a);
      return NULL;
    }
  return a;
}

cs_run_analysis *
cs_run_analysis_load (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  cs_run_stats *s = cs_run_stats_load (run, progress, err);
  cs_run_analysis *a = s != NULL ? cs_run_analysis_new (run, s, err) : NULL;
  /* The example history is costly to compute: use it only when its cache is already valid. */
  char *path = a != NULL ? cs_history_path (run) : NULL;
  cs_error ignored = { 0 };
  cs_history *h = path != NULL ? cs_history_read (path, run, &ignored) : NULL;
  if (h != NULL)
    (void) cs_run_analysis_attach_history (a, h, &ignored);
  cs_history_free (h);
  free (path);
  return a;
}
