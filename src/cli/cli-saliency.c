/* The saliency method (Simonyan 2013): the input gradient of the target logit, and its map. */
#include "cli-saliency.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cs_status
cli_saliency_run (cs_exec *e, const cs_tensor *x, int32_t *targets, cs_tensor *seed, cs_error *err)
{
  const cs_graph *g = cs_exec_model (e)->graph;
  cs_status st = cs_exec_forward (e, x, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *y = cs_exec_value (e, g->output_node);
  int64_t n = x->shape.dim[0];
  if (y == NULL || y->shape.ndim < 1 || y->shape.dim[0] != n)
    return cs_error_set (err, CS_ERR_SHAPE, "the model's output is not one row of logits per sample");
  int64_t classes = cs_tensor_numel (y) / n;
  if (seed->data == NULL || !cs_shape_equal (&seed->shape, &y->shape))
    {
      cs_tensor_free (seed);
      if ((st = cs_tensor_alloc (seed, &y->shape, err)) != CS_OK)
        return st;
    }
  cs_tensor_zero (seed);
  for (int64_t i = 0; i < n; i++)
    {
      const float *row = y->data + i * classes;
      if (targets[i] < 0)
        {
          int32_t best = 0;
          for (int64_t k = 1; k < classes; k++)
            if (row[k] > row[best])
              best = (int32_t) k;
          targets[i] = best;
        }
      if (targets[i] >= classes)
        return cs_error_set (err, CS_ERR_ARGUMENT, "target class %d, the model has %lld classes",
                             targets[i], (long long) classes);
      seed->data[i * classes + targets[i]] = 1.0f;
    }
  return cs_exec_backward (e, g->output_node, seed, CS_GRAD_INPUT, err);
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

void
cli_saliency_map (const float *grad, int32_t c, int32_t h, int32_t w, float *map)
{
  int64_t hw = (int64_t) h * w;
  for (int64_t i = 0; i < hw; i++)
    {
      float v = 0;
      for (int32_t k = 0; k < c; k++)
        v = fmaxf (v, fabsf (grad[k * hw + i]));
      map[i] = isfinite (v) ? v : 0.0f;
    }
  float *sorted = malloc ((size_t) hw * sizeof (float));
  double scale = 0;
  if (sorted != NULL)
    {
      memcpy (sorted, map, (size_t) hw * sizeof (float));
      qsort (sorted, (size_t) hw, sizeof (float), compare_floats);
      double pos = 0.99 * (double) (hw - 1);
      int64_t lo = (int64_t) floor (pos), hi = lo + 1 < hw ? lo + 1 : lo;
      scale = sorted[lo] + (pos - (double) lo) * (sorted[hi] - sorted[lo]);
      if (!(scale > 0))
        scale = sorted[hw - 1]; /* a map that is zero almost everywhere: scale by its max */
      free (sorted);
    }
  else
    for (int64_t i = 0; i < hw; i++)
      scale = fmax (scale, map[i]);
  for (int64_t i = 0; i < hw; i++)
    map[i] = scale > 0 ? fminf (1.0f, (float) (map[i] / scale)) : 0.0f;
}
