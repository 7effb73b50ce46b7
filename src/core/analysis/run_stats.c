/* Weight statistics over a run directory, one checkpoint at a time; damaged checkpoints become
 * unavailable epochs. The analysis.json cache is in analysis_cache.c. */
#include "analysis/run_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_load.h"
#include "io/safetensors.h"

const char *const cs_run_stats_series_names[CS_RUN_STATS_N_SERIES] = {
  "norm", "relative_change", "cosine_to_previous", "distance_from_init", "rotation", "alpha",
  "stable_rank",
};

void
cs_run_stats_series (const cs_layer_series *l, double *series[CS_RUN_STATS_N_SERIES])
{
  series[0] = l->norm;
  series[1] = l->relative_change;
  series[2] = l->cosine_to_previous;
  series[3] = l->distance_from_init;
  series[4] = l->rotation;
  series[5] = l->alpha;
  series[6] = l->stable_rank;
}

const char *
cs_run_stats_op_name (cs_op op)
{
  return op == CS_OP_CONV2D ? "conv2d" : op == CS_OP_GEMM ? "linear" : "matmul";
}

void
cs_run_stats_free (cs_run_stats *s)
{
  if (s == NULL)
    return;
  for (int32_t i = 0; i < s->n_layers; i++)
    {
      cs_layer_series *l = &s->layers[i];
      free (l->name);
      free (l->op);
      double *series[CS_RUN_STATS_N_SERIES];
      cs_run_stats_series (l, series);
      for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
        free (series[c]);
      free (l->filter_change);
    }
  for (int32_t e = 0; s->checkpoint_error != NULL && e < s->n_epochs; e++)
    free (s->checkpoint_error[e]);
  free (s->checkpoint_error);
  free (s->layers);
  free (s->epochs);
  free (s);
}

const cs_layer_series *
cs_run_stats_layer (const cs_run_stats *s, const char *name)
{
  for (int32_t i = 0; i < s->n_layers; i++)
    if (strcmp (s->layers[i].name, name) == 0)
      return &s->layers[i];
  return NULL;
}

bool
cs_layer_series_init (cs_layer_series *l, const char *name, const char *op, int64_t n_filters,
                      int32_t n)
{
  l->name = strdup (name);
  l->op = strdup (op);
  l->n_filters = n_filters;
  double *cols[CS_RUN_STATS_N_SERIES];
  bool ok = l->name != NULL && l->op != NULL && n >= 0 && n_filters >= 0;
  for (int c = 0; ok && c < CS_RUN_STATS_N_SERIES; c++)
    {
      cols[c] = malloc ((size_t) (n > 0 ? n : 1) * sizeof (double));
      ok = cols[c] != NULL;
      for (int32_t e = 0; ok && e < n; e++)
        cols[c][e] = NAN;
      if (!ok)
        for (int k = 0; k < c; k++)
          free (cols[k]);
    }
  if (!ok)
    return false;
  l->norm = cols[0];
  l->relative_change = cols[1];
  l->cosine_to_previous = cols[2];
  l->distance_from_init = cols[3];
  l->rotation = cols[4];
  l->alpha = cols[5];
  l->stable_rank = cols[6];
  if (n_filters > 0 && (int64_t) n > INT64_MAX / 8 / n_filters)
    return false;
  int64_t cells = (int64_t) n * n_filters;
  l->filter_change = malloc ((size_t) cells * sizeof (float) + 1);
  for (int64_t k = 0; l->filter_change != NULL && k < cells; k++)
    l->filter_change[k] = NAN;
  return l->filter_change != NULL;
}

cs_run_stats *
cs_run_stats_new (const cs_run *run, int32_t n_layers, cs_error *err)
{
  int32_t n = run->n_epochs;
  cs_run_stats *s = calloc (1, sizeof *s);
  if (s == NULL)
    goto oom;
  s->n_epochs = n;
  s->epochs = malloc ((size_t) (n > 0 ? n : 1) * sizeof *s->epochs);
  s->checkpoint_error = calloc ((size_t) (n > 0 ? n : 1), sizeof *s->checkpoint_error);
  s->layers = calloc ((size_t) (n_layers > 0 ? n_layers : 1), sizeof *s->layers);
  if (s->epochs == NULL || s->checkpoint_error == NULL || s->layers == NULL)
    goto oom;
  for (int32_t e = 0; e < n; e++)
    s->epochs[e] = run->epochs[e].epoch;
  return s;

oom:
  cs_run_stats_free (s);
  cs_error_set (err, CS_ERR_MEMORY, "out of memory for the statistics of %d layers", n_layers);
  return NULL;
}

bool
cs_run_stats_mark_unavailable (cs_run_stats *s, int32_t e, const char *reason)
{
  if (s->checkpoint_error[e] == NULL)
    s->n_unavailable++;
  free (s->checkpoint_error[e]);
  s->checkpoint_error[e] = strdup (reason != NULL && reason[0] != '\0' ? reason : "unreadable");
  return s->checkpoint_error[e] != NULL;
}

cs_model *
cs_run_stats_model (const cs_run *run, cs_error *err)
{
  if (run->n_epochs == 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: the run has no epochs", run->path);
      return NULL;
    }
  cs_model *m = cs_model_load (run->model, NULL, err);
  if (m != NULL && cs_run_check_model (run, m, err) != CS_OK)
    {
      cs_model_free (m);
      return NULL;
    }
  return m;
}

/* The weights of epoch e over model's graph, or NULL with the reason in why (a damaged
 * checkpoint) or err (out of memory: the whole analysis stops). */
static cs_model *
load_epoch (const cs_run *run, const cs_model *model, int32_t e, cs_error *why, cs_error *err)
{
  cs_model *m = cs_model_clone (model, err);
  if (m == NULL)
    return NULL;
  *why = (cs_error) { 0 };
  if (cs_safetensors_apply (m, run->epochs[e].checkpoint, false, why) != CS_OK)
    {
      cs_model_free (m);
      if (why->code == CS_ERR_MEMORY)
        *err = *why;
      return NULL;
    }
  /* NaN or infinite weights make every statistic of the epoch meaningless (and the next
   * epoch's change with it): the epoch is unavailable, with the tensor and count as reason. */
  if (cs_model_check_finite (m, why) != CS_OK)
    {
      cs_error_prefix (why, "%s", run->epochs[e].checkpoint);
      cs_model_free (m);
      return NULL;
    }
  return m;
}

/* The statistics of every layer at epoch e (cur over prev and init, either may be NULL). */
static cs_status
epoch_stats (const cs_run *run, cs_run_stats *s, const cs_weight_layer *layers, int32_t e,
             const cs_model *cur, const cs_model *prev, const cs_model *init,
             const cs_progress *progress, cs_error *err)
{
  for (int32_t i = 0; i < s->n_layers; i++)
    {
      if (cs_progress_cancelled (progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "%s: weight analysis cancelled", run->path);
      const cs_weight_layer *l = &layers[i];
      cs_layer_series *ls = &s->layers[i];
      cs_weight_epoch_stats st;
      if (cs_weight_epoch_compute (l, cur->weights[l->param].data,
                                   prev != NULL ? prev->weights[l->param].data : NULL,
                                   init != NULL ? init->weights[l->param].data : NULL, true,
                                   ls->filter_change + (int64_t) e * ls->n_filters, &st, err)
          != CS_OK)
        return cs_error_prefix (err, "%s: layer '%s'", run->epochs[e].checkpoint, ls->name);
      ls->norm[e] = st.norm;
      ls->relative_change[e] = st.relative_change;
      ls->cosine_to_previous[e] = st.cosine_to_previous;
      ls->distance_from_init[e] = st.distance_from_init;
      ls->rotation[e] = st.rotation;
      ls->alpha[e] = st.alpha;
      ls->stable_rank[e] = st.stable_rank;
      cs_progress_report (progress, ((double) e * s->n_layers + i + 1)
                                    / ((double) run->n_epochs * s->n_layers));
    }
  return CS_OK;
}

cs_run_stats *
cs_run_stats_compute_over (const cs_run *run, const cs_model *model, const cs_progress *progress,
                           cs_error *err)
{
  cs_weight_layer *layers = NULL;
  int32_t n_layers = 0;
  cs_model *init = NULL, *prev = NULL, *cur = NULL;
  const cs_graph *g = model->graph;
  if (cs_weight_layers_find (g, &layers, &n_layers, err) != CS_OK)
    return NULL;
  cs_run_stats *s = cs_run_stats_new (run, n_layers, err);
  if (s == NULL)
    goto fail;
  s->n_layers = n_layers;  /* zeroed layers free cleanly if one fails below */
  for (int32_t i = 0; i < n_layers; i++)
    if (!cs_layer_series_init (&s->layers[i], g->nodes[layers[i].node].name,
                               cs_run_stats_op_name (g->nodes[layers[i].node].op),
                               layers[i].n_filters, run->n_epochs))
      {
        cs_error_set (err, CS_ERR_MEMORY, "out of memory for the statistics of layer '%s'",
                      g->nodes[layers[i].node].name);
        goto fail;
      }

  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      cs_error why = { 0 }, fatal = { 0 };
      cur = load_epoch (run, model, e, &why, &fatal);
      if (cur == NULL && fatal.code != CS_OK)
        {
          if (err != NULL)
            *err = fatal;
          goto fail;
        }
      if (cur == NULL)
        {
          /* The next epoch has no previous one to change from: its change stays NaN rather
           * than spanning two epochs. */
          if (!cs_run_stats_mark_unavailable (s, e, why.message))
            goto oom;
          if (prev != init)
            cs_model_free (prev);
          prev = NULL;
          continue;
        }
      if (e == 0)
        init = cur;
      if (epoch_stats (run, s, layers, e, cur, prev, init, progress, err) != CS_OK)
        goto fail;
      if (prev != init)
        cs_model_free (prev);
      prev = cur;
      cur = NULL;
    }
  cs_progress_report (progress, 1.0);
  if (prev != init)
    cs_model_free (prev);
  cs_model_free (init);
  free (layers);
  return s;

oom:
  cs_error_set (err, CS_ERR_MEMORY, "out of memory");
fail:
  if (cur != init && cur != prev)
    cs_model_free (cur);
  if (prev != init)
    cs_model_free (prev);
  cs_model_free (init);
  free (layers);
  cs_run_stats_free (s);
  return NULL;
}

cs_run_stats *
cs_run_stats_compute (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  cs_model *model = cs_run_stats_model (run, err);
  if (model == NULL)
    return NULL;
  cs_run_stats *s = cs_run_stats_compute_over (run, model, progress, err);
  cs_model_free (model);
  return s;
}
