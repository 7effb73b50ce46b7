/* Colour bar strips: one colour per column (or row), sampled at pixel centres. */
#include "render/colorbar.h"

void
cs_colorbar_pixels (cs_colormap c, bool vertical, int32_t width, int32_t height, uint8_t *rgba)
{
  int32_t len = vertical ? height : width;
  float lo = cs_colormap_is_signed (c) ? -1.0f : 0.0f;
  for (int32_t y = 0; y < height; y++)
    for (int32_t x = 0; x < width; x++)
      {
        /* position along the bar, 0 at the low end; the ends are the map's exact ends */
        int32_t p = vertical ? height - 1 - y : x;
        float t = len > 1 ? (float) p / (float) (len - 1) : 1.0f;
        uint8_t *px = rgba + 4 * ((int64_t) y * width + x);
        cs_colormap_lookup (c, lo + t * (1.0f - lo), px);
        px[3] = 255;
      }
}
