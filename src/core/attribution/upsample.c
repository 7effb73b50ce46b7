/* Bilinear resizing with half-pixel centres (PyTorch's align_corners=False) and min-max
 * normalisation of maps. */
#include "attribution/upsample.h"

#include <math.h>
#include <stdlib.h>

/* One axis of the resize: for output index i of a full axis of `out` samples over `in` source
 * samples, the two source indices and their weights. Computed in float, as PyTorch's CPU
 * kernel does for float tensors, so that our maps agree with it to the last bits. */
static void
axis_weights (int64_t in, int64_t out, int64_t i, int64_t *i0, int64_t *i1, float *l0, float *l1)
{
  float scale = (float) in / (float) out;
  float src = scale * ((float) i + 0.5f) - 0.5f;
  if (src < 0.0f)
    src = 0.0f;
  int64_t lo = (int64_t) floorf (src);
  if (lo > in - 1)
    lo = in - 1;
  float lambda = src - (float) lo;
  if (lambda < 0.0f)
    lambda = 0.0f;
  if (lambda > 1.0f)
    lambda = 1.0f;
  *i0 = lo;
  *i1 = lo < in - 1 ? lo + 1 : lo;
  *l1 = lambda;
  *l0 = 1.0f - lambda;
}

void
cs_upsample_bilinear_window (const float *src, int64_t h, int64_t w, int64_t full_h,
                             int64_t full_w, int64_t y0, int64_t x0, int64_t out_h,
                             int64_t out_w, float *dst)
{
  /* Columns in blocks whose weights are computed once for all rows (RISE resizes thousands of
   * masks); the arithmetic per pixel is unchanged. */
  enum { BLOCK = 128 };
  int64_t c0[BLOCK], c1[BLOCK];
  float w0[BLOCK], w1[BLOCK];
  for (int64_t xb = 0; xb < out_w; xb += BLOCK)
    {
      int64_t nb = out_w - xb < BLOCK ? out_w - xb : BLOCK;
      for (int64_t j = 0; j < nb; j++)
        axis_weights (w, full_w, x0 + xb + j, &c0[j], &c1[j], &w0[j], &w1[j]);
      for (int64_t y = 0; y < out_h; y++)
        {
          int64_t r0, r1;
          float h0, h1;
          axis_weights (h, full_h, y0 + y, &r0, &r1, &h0, &h1);
          const float *row0 = src + r0 * w, *row1 = src + r1 * w;
          float *d = dst + y * out_w + xb;
          for (int64_t j = 0; j < nb; j++)
            {
              float t0 = row0[c0[j]] * w0[j] + row0[c1[j]] * w1[j];
              float t1 = row1[c0[j]] * w0[j] + row1[c1[j]] * w1[j];
              d[j] = t0 * h0 + t1 * h1;
            }
        }
    }
}

bool
cs_upsample_minmax (float *x, int64_t n)
{
  float lo = INFINITY, hi = -INFINITY;
  bool finite = true;
  for (int64_t i = 0; i < n; i++)
    {
      if (!isfinite (x[i]))
        finite = false;
      if (x[i] < lo)
        lo = x[i];
      if (x[i] > hi)
        hi = x[i];
    }
  if (n == 0 || !finite || !(hi > lo))
    {
      for (int64_t i = 0; i < n; i++)
        x[i] = 0.0f;
      return false;
    }
  /* In double: (x - lo) / (hi - lo) must land in [0, 1] even for huge ranges. */
  double range = (double) hi - (double) lo;
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) (((double) x[i] - (double) lo) / range);
  return true;
}

cs_status
cs_upsample_cam_map (const cs_tensor *raw, int64_t height, int64_t width, cs_tensor *map,
                     cs_error *err)
{
  if (raw->shape.ndim != 2)
    return cs_error_set (err, CS_ERR_SHAPE, "a CAM map must be 2-D, this one has %d dims",
                         raw->shape.ndim);
  cs_shape s = cs_shape_make (2, (int64_t[]) { height, width });
  cs_status st = cs_tensor_alloc (map, &s, err);
  if (st != CS_OK)
    return st;
  cs_upsample_bilinear (raw->data, raw->shape.dim[0], raw->shape.dim[1], map->data, height, width);
  cs_upsample_minmax (map->data, height * width);
  return CS_OK;
}
