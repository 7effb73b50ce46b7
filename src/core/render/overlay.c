/* The input de-normalised for display, and the alpha blend of a coloured map over it. */
#include "render/overlay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/upsample.h"

static float
clamp01 (float v)
{
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

static uint8_t
to_byte (float v)
{
  return (uint8_t) lrintf (255.0f * clamp01 (v));
}

cs_status
cs_render_input (const cs_tensor *input, const float *mean, const float *std, bool grayscale,
                 uint8_t *rgba, cs_error *err)
{
  int32_t nd = input->shape.ndim;
  if (nd < 3 || nd > 4 || (nd == 4 && input->shape.dim[0] != 1))
    return cs_error_set (err, CS_ERR_SHAPE, "an input picture needs a (C,H,W) or (1,C,H,W) tensor");
  int64_t c = input->shape.dim[nd - 3], hw = input->shape.dim[nd - 2] * input->shape.dim[nd - 1];
  if (c < 1 || hw < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "an input picture needs at least one pixel");
  /* De-normalise the channels we show into one float picture (3 planes). */
  float *pix = malloc ((size_t) (3 * hw) * sizeof (float));
  if (pix == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a %lld-pixel picture", (long long) hw);
  float lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < 3; k++)
    {
      float *dst = pix + k * hw;
      if (c >= 3 || (c == 1 && k == 0))
        {
          int ch = c >= 3 ? k : 0;
          float mu = mean ? mean[ch < 4 ? ch : 0] : 0, sd = std ? std[ch < 4 ? ch : 0] : 1;
          const float *src = input->data + ch * hw;
          for (int64_t i = 0; i < hw; i++)
            dst[i] = isfinite (src[i]) ? src[i] * sd + mu : 0;
        }
      else if (c == 2 && k == 0)
        {
          for (int64_t i = 0; i < hw; i++)
            {
              float a = input->data[i] * (std ? std[0] : 1) + (mean ? mean[0] : 0);
              float b = input->data[hw + i] * (std ? std[1] : 1) + (mean ? mean[1] : 0);
              dst[i] = isfinite (a + b) ? 0.5f * (a + b) : 0;
            }
        }
      else
        memcpy (dst, pix, (size_t) hw * sizeof (float)); /* gray: replicate plane 0 */
      for (int64_t i = 0; i < hw; i++)
        {
          lo = fminf (lo, dst[i]);
          hi = fmaxf (hi, dst[i]);
        }
    }
  float scale = 1, shift = 0;
  if ((lo < -0.05f || hi > 1.05f) && hi > lo)
    {
      scale = 1 / (hi - lo);
      shift = -lo;
    }
  for (int64_t i = 0; i < hw; i++)
    {
      float r = (pix[i] + shift) * scale, g = (pix[hw + i] + shift) * scale;
      float b = (pix[2 * hw + i] + shift) * scale;
      if (grayscale)
        r = g = b = 0.299f * clamp01 (r) + 0.587f * clamp01 (g) + 0.114f * clamp01 (b);
      rgba[4 * i] = to_byte (r);
      rgba[4 * i + 1] = to_byte (g);
      rgba[4 * i + 2] = to_byte (b);
      rgba[4 * i + 3] = 255;
    }
  free (pix);
  return CS_OK;
}

cs_status
cs_render_overlay (const uint8_t *base, int32_t width, int32_t height, const float *map,
                   int32_t map_h, int32_t map_w, const cs_overlay_options *o, uint8_t *out,
                   cs_error *err)
{
  if (width < 1 || height < 1 || map_h < 1 || map_w < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "an overlay needs a non-empty picture and map");
  cs_overlay_options opts = o ? *o : CS_OVERLAY_OPTIONS_DEFAULT;
  float alpha = isfinite (opts.alpha) ? clamp01 (opts.alpha) : 0.5f;
  int64_t n = (int64_t) width * height;
  float *resized = NULL;
  const float *values = map;
  if (map_h != height || map_w != width)
    {
      resized = malloc ((size_t) n * sizeof (float));
      if (resized == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a %dx%d overlay", width, height);
      cs_upsample_bilinear (map, map_h, map_w, resized, height, width);
      values = resized;
    }
  for (int64_t i = 0; i < n; i++)
    {
      uint8_t c[3];
      cs_colormap_lookup (opts.colormap, values[i], c);
      for (int k = 0; k < 3; k++)
        out[4 * i + k] = (uint8_t) lrintf ((1 - alpha) * (float) base[4 * i + k] + alpha * (float) c[k]);
      out[4 * i + 3] = 255;
    }
  free (resized);
  return CS_OK;
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

cs_status
cs_render_signed_plane (const cs_tensor *raw, cs_tensor *plane, cs_error *err)
{
  memset (plane, 0, sizeof *plane);
  int32_t nd = raw->shape.ndim;
  if (nd < 2 || nd > 3)
    return cs_error_set (err, CS_ERR_SHAPE, "a signed plane needs a (C,H,W) or (H,W) attribution");
  int64_t c = nd == 3 ? raw->shape.dim[0] : 1, h = raw->shape.dim[nd - 2], w = raw->shape.dim[nd - 1];
  cs_shape s = cs_shape_make (2, (int64_t[]) { h, w });
  cs_status st = cs_tensor_alloc (plane, &s, err);
  if (st != CS_OK)
    return st;
  int64_t hw = h * w;
  for (int64_t k = 0; k < c; k++)
    for (int64_t i = 0; i < hw; i++)
      plane->data[i] += isfinite (raw->data[k * hw + i]) ? raw->data[k * hw + i] : 0;
  float *mag = malloc ((size_t) hw * sizeof (float));
  if (mag == NULL)
    {
      cs_tensor_free (plane);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a signed plane");
    }
  for (int64_t i = 0; i < hw; i++)
    mag[i] = fabsf (plane->data[i]);
  qsort (mag, (size_t) hw, sizeof (float), compare_floats);
  /* numpy's linear-interpolated 99th percentile, as the unsigned maps use */
  double pos = 0.99 * (double) (hw - 1);
  int64_t i0 = (int64_t) pos;
  int64_t i1 = i0 + 1 < hw ? i0 + 1 : i0;
  float q = (float) ((1 - (pos - (double) i0)) * mag[i0] + (pos - (double) i0) * mag[i1]);
  if (!(q > 0))
    q = mag[hw - 1];
  free (mag);
  if (q > 0)
    for (int64_t i = 0; i < hw; i++)
      {
        float v = plane->data[i] / q;
        plane->data[i] = v < -1 ? -1 : v > 1 ? 1 : v;
      }
  return CS_OK;
}
