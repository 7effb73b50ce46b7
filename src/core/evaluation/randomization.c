/* The model-randomisation sanity check (Adebayo et al. 2018): re-initialise the layers from
 * the output down, cumulatively, and measure how much the explanation still looks like the
 * trained model's. A method whose map survives randomisation explains the input, not the model. */
#include "evaluation/evaluation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  float value;
  int64_t index;
} ranked;

static int
by_value (const void *pa, const void *pb)
{
  const ranked *a = pa, *b = pb;
  if (a->value != b->value)
    return a->value < b->value ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

/* Average ranks (1-based) of x into r; false when out of memory. */
static bool
ranks (const float *x, int64_t n, double *r)
{
  ranked *s = malloc ((size_t) n * sizeof *s);
  if (s == NULL)
    return false;
  for (int64_t i = 0; i < n; i++)
    {
      s[i].value = isfinite (x[i]) ? x[i] : 0;
      s[i].index = i;
    }
  qsort (s, (size_t) n, sizeof *s, by_value);
  for (int64_t i = 0; i < n;)
    {
      int64_t j = i;
      while (j + 1 < n && s[j + 1].value == s[i].value)
        j++;
      double avg = 0.5 * (double) (i + j) + 1.0;
      for (int64_t k = i; k <= j; k++)
        r[s[k].index] = avg;
      i = j + 1;
    }
  free (s);
  return true;
}

double
cs_spearman (const float *a, const float *b, int64_t n)
{
  if (n <= 0)
    return 0;
  if (memcmp (a, b, (size_t) n * sizeof (float)) == 0)
    return 1.0;
  double *ra = malloc ((size_t) n * sizeof (double)), *rb = malloc ((size_t) n * sizeof (double));
  double rho = 0;
  if (ra != NULL && rb != NULL && ranks (a, n, ra) && ranks (b, n, rb))
    {
      double ma = 0, mb = 0;
      for (int64_t i = 0; i < n; i++)
        {
          ma += ra[i];
          mb += rb[i];
        }
      ma /= (double) n;
      mb /= (double) n;
      double sab = 0, saa = 0, sbb = 0;
      for (int64_t i = 0; i < n; i++)
        {
          sab += (ra[i] - ma) * (rb[i] - mb);
          saa += (ra[i] - ma) * (ra[i] - ma);
          sbb += (rb[i] - mb) * (rb[i] - mb);
        }
      rho = saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 0;
      rho = rho > 1 ? 1 : rho < -1 ? -1 : rho;
    }
  free (ra);
  free (rb);
  return rho;
}

void
cs_randomization_free (cs_randomization *r)
{
  if (r == NULL)
    return;
  free (r->layers);
  free (r->spearman);
  memset (r, 0, sizeof *r);
}

/* Each run of the method reports into its share [lo, hi] of the whole check. */
typedef struct {
  const cs_progress *parent;
  double lo, hi;
} sub_progress;

static void
forward_progress (void *user_data, double fraction)
{
  sub_progress *s = user_data;
  cs_progress_report (s->parent, s->lo + (s->hi - s->lo) * fraction);
}

/* The layer of parameter p: the first operator that reads it. */
static int32_t
layer_of_param (const cs_graph *g, int32_t param)
{
  int32_t node = g->param_nodes[param];
  for (int32_t id = node + 1; id < g->n_nodes; id++)
    for (int32_t i = 0; i < g->nodes[id].n_inputs; i++)
      if (g->nodes[id].inputs[i] == node)
        return id;
  return -1;
}

cs_status
cs_evaluation_randomization (cs_exec *e, const cs_tensor *input, const cs_attribution_params *p,
                             const cs_attribution *original, uint64_t seed,
                             const cs_progress *progress, cs_randomization *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  const cs_model *m = cs_exec_model (e);
  const cs_graph *g = m->graph;
  cs_status st = CS_OK;
  cs_attribution own = { 0 }, run = { 0 };
  cs_model *fresh = NULL, *work = NULL;
  int32_t *param_layer = calloc ((size_t) (g->n_params > 0 ? g->n_params : 1), sizeof (int32_t));
  out->layers = calloc ((size_t) (g->n_params > 0 ? g->n_params : 1), sizeof (int32_t));
  if (param_layer == NULL || out->layers == NULL)
    {
      st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for the randomisation check");
      goto out;
    }
  /* The layers: operators reading parameters, from the output side down. */
  for (int32_t i = 0; i < g->n_params; i++)
    param_layer[i] = layer_of_param (g, i);
  for (int32_t id = g->n_nodes - 1; id >= 0; id--)
    for (int32_t i = 0; i < g->n_params; i++)
      if (param_layer[i] == id)
        {
          out->layers[out->n_layers++] = id;
          break;
        }
  if (out->n_layers == 0)
    {
      st = cs_error_set (err, CS_ERR_ARGUMENT, "the model has no layer with parameters to randomise");
      goto out;
    }
  out->spearman = calloc ((size_t) out->n_layers, sizeof (double));
  if (out->spearman == NULL)
    {
      st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for the randomisation check");
      goto out;
    }

  int32_t runs = out->n_layers + (original == NULL ? 1 : 0);
  sub_progress sp = { progress, 0, 0 };
  cs_progress inner = { forward_progress, &sp, progress ? progress->cancel : NULL };
  if (original == NULL)
    {
      sp.hi = 1.0 / runs;
      if ((st = cs_attribution_run (e, input, p, &inner, &own, err)) != CS_OK)
        goto out;
      original = &own;
    }
  cs_attribution_params q = *p;
  q.target = original->target;
  q.layer = original->layer;

  if ((fresh = cs_model_clone (m, err)) == NULL || (work = cs_model_clone (m, err)) == NULL)
    {
      st = err ? err->code : CS_ERR_MEMORY;
      goto out;
    }
  cs_model_init_weights (fresh, seed);
  for (int32_t l = 0; l < out->n_layers && st == CS_OK; l++)
    {
      if (cs_progress_cancelled (progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      for (int32_t i = 0; i < g->n_params; i++)
        if (param_layer[i] == out->layers[l])
          memcpy (work->weights[i].data, fresh->weights[i].data,
                  (size_t) cs_tensor_numel (&fresh->weights[i]) * sizeof (float));
      if ((st = cs_exec_set_model (e, work, err)) != CS_OK)
        break;
      int32_t done = runs - out->n_layers + l;
      sp.lo = (double) done / runs;
      sp.hi = (double) (done + 1) / runs;
      st = cs_attribution_run (e, input, &q, &inner, &run, err);
      if (st == CS_OK)
        {
          out->spearman[l] = cs_spearman (original->map.data, run.map.data, cs_tensor_numel (&original->map));
          cs_attribution_free (&run);
        }
    }
  /* Whatever happened, e explains the model it came with again. */
  cs_exec_set_model (e, m, NULL);
  if (st == CS_OK)
    cs_progress_report (progress, 1.0);

out:
  free (param_layer);
  cs_attribution_free (&own);
  cs_model_free (fresh);
  cs_model_free (work);
  if (st != CS_OK)
    cs_randomization_free (out);
  return st;
}
