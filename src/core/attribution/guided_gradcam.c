/* Guided Grad-CAM (Selvaraju et al. 2017): guided backprop times the displayed Grad-CAM map,
 * pixel-precise and class-discriminative at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/cam.h"

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The display of gradient-only methods (docs/methods.md): max |.| over channels, divided by its 99th
 * percentile (numpy's linear interpolation), clipped to [0,1]. Kept here, static, while
 * map.c's version for the pixel methods is written elsewhere. */
static cs_status
reduce_max_abs_p99 (const cs_tensor *raw, cs_tensor *map, cs_error *err)
{
  int64_t c = raw->shape.dim[0], h = raw->shape.dim[1], w = raw->shape.dim[2], hw = h * w;
  cs_shape s = cs_shape_make (2, (int64_t[]) { h, w });
  cs_status st = cs_tensor_alloc (map, &s, err);
  if (st != CS_OK)
    return st;
  for (int64_t i = 0; i < hw; i++)
    {
      float m = 0;
      for (int64_t k = 0; k < c; k++)
        m = fmaxf (m, fabsf (raw->data[k * hw + i]));
      map->data[i] = m;
    }
  float *sorted = cs_alloc_floats (hw);
  if (sorted == NULL)
    {
      cs_tensor_free (map);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  memcpy (sorted, map->data, (size_t) hw * sizeof (float));
  qsort (sorted, (size_t) hw, sizeof (float), compare_floats);
  double pos = 0.99 * (double) (hw - 1);
  int64_t lo = (int64_t) floor (pos);
  int64_t hi = lo + 1 < hw ? lo + 1 : lo;
  double p99 = sorted[lo] + (pos - (double) lo) * ((double) sorted[hi] - (double) sorted[lo]);
  if (!(p99 > 0))
    p99 = sorted[hw - 1];
  cs_free_floats (sorted);
  for (int64_t i = 0; i < hw; i++)
    {
      double v = p99 > 0 && isfinite (p99) ? map->data[i] / p99 : 0.0;
      map->data[i] = (float) (v > 1.0 ? 1.0 : v);
    }
  return CS_OK;
}

cs_status
cs_method_guided_gradcam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  /* Grad-CAM leaves the exec holding the forward pass, which guided backprop reuses. */
  cs_attribution cam = { 0 };
  cs_status st = cs_method_gradcam (ctx, &cam, err);
  if (st != CS_OK)
    return st;
  int32_t from = -1;
  cs_tensor seed = { 0 }, raw = { 0 }, map = { 0 };
  st = cs_cam_score_seed (ctx, &from, &seed, err);
  if (st == CS_OK)
    {
      cs_exec_set_relu_rule (ctx->exec, CS_RELU_RULE_GUIDED);
      st = cs_exec_backward (ctx->exec, from, &seed, CS_GRAD_INPUT, err);
      cs_exec_set_relu_rule (ctx->exec, CS_RELU_RULE_GRADIENT);
    }
  cs_tensor_free (&seed);
  const cs_tensor *x = ctx->input;
  int64_t c = x->shape.dim[1], hw = x->shape.dim[2] * x->shape.dim[3];
  cs_shape rs = cs_shape_make (3, (int64_t[]) { c, x->shape.dim[2], x->shape.dim[3] });
  if (st == CS_OK)
    st = cs_tensor_alloc (&raw, &rs, err);
  if (st == CS_OK)
    {
      const cs_tensor *guided = cs_exec_grad (ctx->exec, ctx->model->graph->input_node);
      for (int64_t k = 0; k < c; k++)
        for (int64_t i = 0; i < hw; i++)
          raw.data[k * hw + i] = guided->data[k * hw + i] * cam.map.data[i];
      st = reduce_max_abs_p99 (&raw, &map, err);
    }
  cs_tensor_free (&cam.raw);
  cs_tensor_free (&cam.map);
  if (st != CS_OK)
    {
      cs_tensor_free (&raw);
      return st;
    }
  out->raw = raw;
  out->map = map;
  out->raw_is_signed = true;
  out->passes = 1;
  return CS_OK;
}
