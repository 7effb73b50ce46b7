/* Simple map rendering for the CLI: a few colormaps and an alpha overlay, as 8-bit RGB.
 * (Proper colormaps and overlays come to the core later; this is just enough for PNG output.) */
#include "cli-render.h"

#include <math.h>

const char *const cli_colormap_names[] = { "jet", "viridis", "inferno", "gray", NULL };

/* matplotlib's maps sampled at 9 evenly spaced points; linear in between. */
static const uint8_t viridis[9][3] = {
  { 68, 1, 84 }, { 71, 44, 122 }, { 59, 81, 139 }, { 44, 113, 142 }, { 33, 144, 141 },
  { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 }, { 253, 231, 37 },
};
static const uint8_t inferno[9][3] = {
  { 0, 0, 4 }, { 31, 12, 72 }, { 85, 15, 109 }, { 136, 34, 106 }, { 186, 54, 85 },
  { 227, 89, 51 }, { 249, 140, 10 }, { 249, 201, 50 }, { 252, 255, 164 },
};

static float
clamp01 (float v)
{
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void
colour (float v, cli_colormap cmap, uint8_t *rgb)
{
  v = isfinite (v) ? clamp01 (v) : 0;
  const uint8_t (*table)[3] = NULL;
  switch (cmap)
    {
    case CLI_CMAP_JET:
      rgb[0] = (uint8_t) lrintf (255 * clamp01 (1.5f - fabsf (4 * v - 3)));
      rgb[1] = (uint8_t) lrintf (255 * clamp01 (1.5f - fabsf (4 * v - 2)));
      rgb[2] = (uint8_t) lrintf (255 * clamp01 (1.5f - fabsf (4 * v - 1)));
      return;
    case CLI_CMAP_GRAY:
      rgb[0] = rgb[1] = rgb[2] = (uint8_t) lrintf (255 * v);
      return;
    case CLI_CMAP_VIRIDIS:
      table = viridis;
      break;
    case CLI_CMAP_INFERNO:
    default:
      table = inferno;
      break;
    }
  float pos = v * 8;
  int i = (int) pos < 8 ? (int) pos : 7;
  float f = pos - (float) i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (uint8_t) lrintf ((1 - f) * table[i][k] + f * table[i + 1][k]);
}

void
cli_render_map (const float *map, int32_t h, int32_t w, cli_colormap cmap, uint8_t *rgb)
{
  for (int64_t i = 0; i < (int64_t) h * w; i++)
    colour (map[i], cmap, rgb + 3 * i);
}

/* Bilinear sample with half-pixel centres (PyTorch's align_corners=False). */
static float
sample (const float *map, int32_t h, int32_t w, int32_t y, int32_t x, int32_t oh, int32_t ow)
{
  float sy = ((float) y + 0.5f) * (float) h / (float) oh - 0.5f;
  float sx = ((float) x + 0.5f) * (float) w / (float) ow - 0.5f;
  sy = sy < 0 ? 0 : sy;
  sx = sx < 0 ? 0 : sx;
  int32_t y0 = (int32_t) sy, x0 = (int32_t) sx;
  y0 = y0 < h - 1 ? y0 : h - 1;
  x0 = x0 < w - 1 ? x0 : w - 1;
  int32_t y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
  float fy = sy - (float) y0, fx = sx - (float) x0;
  fy = fy > 1 ? 1 : fy;
  fx = fx > 1 ? 1 : fx;
  float top = (1 - fx) * map[(int64_t) y0 * w + x0] + fx * map[(int64_t) y0 * w + x1];
  float bottom = (1 - fx) * map[(int64_t) y1 * w + x0] + fx * map[(int64_t) y1 * w + x1];
  return (1 - fy) * top + fy * bottom;
}

void
cli_render_overlay (const uint8_t *base, int32_t bw, int32_t bh, const float *map, int32_t h,
                    int32_t w, cli_colormap cmap, float alpha, uint8_t *out)
{
  alpha = clamp01 (alpha);
  for (int32_t y = 0; y < bh; y++)
    for (int32_t x = 0; x < bw; x++)
      {
        int64_t i = (int64_t) y * bw + x;
        uint8_t c[3];
        colour (sample (map, h, w, y, x, bh, bw), cmap, c);
        for (int k = 0; k < 3; k++)
          out[3 * i + k] = (uint8_t) lrintf ((1 - alpha) * base[3 * i + k] + alpha * c[k]);
      }
}

void
cli_render_tensor (const cs_tensor *x, uint8_t *rgb)
{
  int64_t c = x->shape.dim[1], hw = x->shape.dim[2] * x->shape.dim[3];
  for (int k = 0; k < 3; k++)
    {
      const float *p = x->data + (k < c ? k : 0) * hw;
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t i = 0; i < hw; i++)
        if (isfinite (p[i]))
          {
            lo = fminf (lo, p[i]);
            hi = fmaxf (hi, p[i]);
          }
      float range = hi > lo ? hi - lo : 1;
      for (int64_t i = 0; i < hw; i++)
        rgb[3 * i + k] = (uint8_t) lrintf (255 * clamp01 (isfinite (p[i]) ? (p[i] - lo) / range : 0));
    }
}
