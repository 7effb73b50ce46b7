/* Bilinear resampling under a random similarity transform and its adjoint (the transposed
 * interpolation weights), so that the robustness transforms are differentiable. */
#include "features/transform.h"

#include <math.h>
#include <stdbool.h>

cs_transform
cs_transform_random (cs_rng *rng, int32_t jitter, float scale_range, float max_degrees)
{
  cs_transform t = { 0, 0, 1, 0 };
  if (jitter > 0)
    {
      t.shift_x = (float) ((int64_t) cs_rng_below (rng, (uint64_t) (2 * jitter + 1)) - jitter);
      t.shift_y = (float) ((int64_t) cs_rng_below (rng, (uint64_t) (2 * jitter + 1)) - jitter);
    }
  if (scale_range > 0)
    t.scale = 1.0f + scale_range * (float) (2 * cs_rng_uniform (rng) - 1);
  if (max_degrees > 0)
    t.angle = (float) ((2 * cs_rng_uniform (rng) - 1) * max_degrees * M_PI / 180.0);
  return t;
}

/* The source position of output pixel (y, x): the inverse transform about the centre. */
typedef struct {
  float a, b, c, d;          /* inverse rotation / scale */
  float cy, cx;
} inverse_map;

static inverse_map
inverse_of (const cs_transform *t, int32_t h, int32_t w)
{
  float cs = cosf (t->angle) / t->scale, sn = sinf (t->angle) / t->scale;
  inverse_map m = { cs, sn, -sn, cs, 0.5f * (float) (h - 1), 0.5f * (float) (w - 1) };
  return m;
}

/* Corner (y0, x0) and weights of the bilinear sample for output pixel (y, x). */
static void
source_of (const inverse_map *m, const cs_transform *t, int32_t y, int32_t x, int32_t *y0,
           int32_t *x0, float *fy, float *fx)
{
  float u = (float) x - t->shift_x - m->cx, v = (float) y - t->shift_y - m->cy;
  float sx = m->a * u + m->b * v + m->cx;
  float sy = m->c * u + m->d * v + m->cy;
  /* snap values within rounding of an integer, so the identity copies exactly */
  float rx = roundf (sx), ry = roundf (sy);
  if (fabsf (sx - rx) < 1e-4f)
    sx = rx;
  if (fabsf (sy - ry) < 1e-4f)
    sy = ry;
  float flx = floorf (sx), fly = floorf (sy);
  *x0 = (int32_t) flx;
  *y0 = (int32_t) fly;
  *fx = sx - flx;
  *fy = sy - fly;
}

void
cs_transform_apply (const cs_transform *t, const float *in, int32_t c, int32_t h, int32_t w,
                    float fill, float *out)
{
  inverse_map m = inverse_of (t, h, w);
  int64_t hw = (int64_t) h * w;
  for (int32_t y = 0; y < h; y++)
    for (int32_t x = 0; x < w; x++)
      {
        int32_t y0, x0;
        float fy, fx;
        source_of (&m, t, y, x, &y0, &x0, &fy, &fx);
        float wt[4] = { (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx };
        int32_t yy[4] = { y0, y0, y0 + 1, y0 + 1 }, xx[4] = { x0, x0 + 1, x0, x0 + 1 };
        for (int32_t ch = 0; ch < c; ch++)
          {
            const float *src = in + ch * hw;
            float s = 0;
            for (int k = 0; k < 4; k++)
              {
                if (wt[k] == 0)
                  continue;
                bool inside = yy[k] >= 0 && yy[k] < h && xx[k] >= 0 && xx[k] < w;
                s += wt[k] * (inside ? src[yy[k] * w + xx[k]] : fill);
              }
            out[ch * hw + (int64_t) y * w + x] = s;
          }
      }
}

void
cs_transform_adjoint (const cs_transform *t, const float *grad_out, int32_t c, int32_t h,
                      int32_t w, float *grad_in)
{
  inverse_map m = inverse_of (t, h, w);
  int64_t hw = (int64_t) h * w;
  for (int32_t y = 0; y < h; y++)
    for (int32_t x = 0; x < w; x++)
      {
        int32_t y0, x0;
        float fy, fx;
        source_of (&m, t, y, x, &y0, &x0, &fy, &fx);
        float wt[4] = { (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx };
        int32_t yy[4] = { y0, y0, y0 + 1, y0 + 1 }, xx[4] = { x0, x0 + 1, x0, x0 + 1 };
        for (int k = 0; k < 4; k++)
          {
            if (wt[k] == 0 || yy[k] < 0 || yy[k] >= h || xx[k] < 0 || xx[k] >= w)
              continue;
            for (int32_t ch = 0; ch < c; ch++)
              grad_in[ch * hw + yy[k] * w + xx[k]] += wt[k] * grad_out[ch * hw + (int64_t) y * w + x];
          }
      }
}
