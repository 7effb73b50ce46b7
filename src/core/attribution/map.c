/* Channel reductions, percentile scaling and min-max normalisation of attribution maps. */
#include "attribution/map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cs_status
cs_map_reduce_channels (const cs_tensor *chw, cs_channel_reduce how, cs_tensor *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  if (chw->shape.ndim != 3)
    return cs_error_set (err, CS_ERR_SHAPE, "a pixel attribution must be (C,H,W), not %d-D",
                         chw->shape.ndim);
  int64_t c = chw->shape.dim[0], hw = chw->shape.dim[1] * chw->shape.dim[2];
  cs_shape s = cs_shape_make (2, &chw->shape.dim[1]);
  cs_status st = cs_tensor_alloc (out, &s, err);
  if (st != CS_OK)
    return st;
  for (int64_t k = 0; k < c; k++)
    {
      const float *src = chw->data + k * hw;
      for (int64_t i = 0; i < hw; i++)
        {
          float a = fabsf (src[i]);
          if (how == CS_REDUCE_SUM_ABS)
            out->data[i] += a;
          else if (a > out->data[i])
            out->data[i] = a;
        }
    }
  return CS_OK;
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

float
cs_map_quantile (const cs_tensor *t, double q, bool *ok)
{
  int64_t n = cs_tensor_numel (t);
  if (ok != NULL)
    *ok = true;
  if (n <= 0)
    return 0.0f;
  float *sorted = cs_alloc_floats (n);
  if (sorted == NULL)
    {
      if (ok != NULL)
        *ok = false;
      return 0.0f;
    }
  memcpy (sorted, t->data, (size_t) n * sizeof (float));
  qsort (sorted, (size_t) n, sizeof (float), compare_floats);
  q = q < 0 ? 0 : q > 1 ? 1 : q;
  double pos = q * (double) (n - 1);
  int64_t lo = (int64_t) floor (pos);
  int64_t hi = lo + 1 < n ? lo + 1 : lo;
  double frac = pos - (double) lo;
  float v = (float) ((double) sorted[lo] + frac * ((double) sorted[hi] - (double) sorted[lo]));
  cs_free_floats (sorted);
  return v;
}

cs_status
cs_map_scale_percentile (cs_tensor *hw, cs_error *err)
{
  int64_t n = cs_tensor_numel (hw);
  bool ok;
  float scale = cs_map_quantile (hw, 0.99, &ok);
  if (!ok)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory sorting a %lld-pixel map", (long long) n);
  if (!(scale > 0))
    {
      /* a map whose top 1% is all that is non-zero: fall back to the maximum */
      scale = 0;
      for (int64_t i = 0; i < n; i++)
        if (hw->data[i] > scale)
          scale = hw->data[i];
    }
  for (int64_t i = 0; i < n; i++)
    {
      float v = scale > 0 ? hw->data[i] / scale : 0.0f;
      hw->data[i] = v < 0 ? 0.0f : v > 1 ? 1.0f : v;
    }
  return CS_OK;
}

void
cs_map_normalize_minmax (cs_tensor *hw)
{
  int64_t n = cs_tensor_numel (hw);
  if (n <= 0)
    return;
  float lo = hw->data[0], hi = hw->data[0];
  for (int64_t i = 1; i < n; i++)
    {
      lo = hw->data[i] < lo ? hw->data[i] : lo;
      hi = hw->data[i] > hi ? hw->data[i] : hi;
    }
  double range = (double) hi - (double) lo;
  for (int64_t i = 0; i < n; i++)
    hw->data[i] = range > 0 ? (float) (((double) hw->data[i] - lo) / range) : 0.0f;
}

cs_status
cs_map_from_pixels (const cs_tensor *raw, cs_channel_reduce how, cs_tensor *map, cs_error *err)
{
  cs_status st = cs_map_reduce_channels (raw, how, map, err);
  if (st == CS_OK)
    st = cs_map_scale_percentile (map, err);
  if (st != CS_OK)
    cs_tensor_free (map);
  return st;
}
