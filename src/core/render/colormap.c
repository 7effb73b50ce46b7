/* Colormaps: jet (piecewise linear), viridis and inferno (matplotlib's tables), gray, and a
 * blue-white-red diverging map for signed attributions. */
#include "render/colormap.h"

#include <math.h>
#include <string.h>

#include "render/colormap_data.h"

static const char *const names[CS_COLORMAP_COUNT] = {
  "jet", "viridis", "inferno", "gray", "diverging",
};

const char *
cs_colormap_name (cs_colormap c)
{
  return c >= 0 && c < CS_COLORMAP_COUNT ? names[c] : "unknown";
}

cs_colormap
cs_colormap_from_name (const char *name)
{
  for (int i = 0; name != NULL && i < CS_COLORMAP_COUNT; i++)
    if (strcmp (name, names[i]) == 0)
      return (cs_colormap) i;
  if (name != NULL && strcmp (name, "grey") == 0)
    return CS_COLORMAP_GRAY;
  return CS_COLORMAP_COUNT;
}

bool
cs_colormap_is_signed (cs_colormap c)
{
  return c == CS_COLORMAP_DIVERGING;
}

static float
clamp (float v, float lo, float hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

static void
table (const float (*t)[3], float v, float rgb[3])
{
  float pos = v * 255.0f;
  int i = (int) pos;
  if (i >= 255)
    i = 254;
  float f = pos - (float) i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (1 - f) * t[i][k] + f * t[i + 1][k];
}

/* Endpoints of the diverging map: the blue and red of Moreland's cool-warm map, meeting in
 * white so that zero attribution leaves the image underneath visible. */
static const float blue[3] = { 0.230f, 0.299f, 0.754f };
static const float red[3] = { 0.706f, 0.016f, 0.150f };

void
cs_colormap_lookupf (cs_colormap c, float v, float rgb[3])
{
  if (!isfinite (v))
    v = 0;
  switch (c)
    {
    case CS_COLORMAP_JET:
      /* matplotlib's _jet_data segments: red, green, blue ramps centred at 3/4, 1/2, 1/4. */
      v = clamp (v, 0, 1);
      rgb[0] = clamp (1.5f - fabsf (4 * v - 3), 0, 1);
      rgb[1] = clamp (1.5f - fabsf (4 * v - 2), 0, 1);
      rgb[2] = clamp (1.5f - fabsf (4 * v - 1), 0, 1);
      return;
    case CS_COLORMAP_VIRIDIS:
      table (cs_colormap_viridis, clamp (v, 0, 1), rgb);
      return;
    case CS_COLORMAP_INFERNO:
      table (cs_colormap_inferno, clamp (v, 0, 1), rgb);
      return;
    case CS_COLORMAP_DIVERGING:
      {
        v = clamp (v, -1, 1);
        const float *end = v < 0 ? blue : red;
        float f = fabsf (v);
        for (int k = 0; k < 3; k++)
          rgb[k] = (1 - f) * 1.0f + f * end[k];
        return;
      }
    case CS_COLORMAP_GRAY:
    default:
      v = clamp (v, 0, 1);
      rgb[0] = rgb[1] = rgb[2] = v;
      return;
    }
}

void
cs_colormap_lookup (cs_colormap c, float v, uint8_t rgb[3])
{
  float f[3];
  cs_colormap_lookupf (c, v, f);
  for (int k = 0; k < 3; k++)
    rgb[k] = (uint8_t) lrintf (255.0f * clamp (f[k], 0, 1));
}

void
cs_colormap_apply (cs_colormap c, const float *values, int64_t n, uint8_t *rgba)
{
  for (int64_t i = 0; i < n; i++)
    {
      cs_colormap_lookup (c, values[i], rgba + 4 * i);
      rgba[4 * i + 3] = 255;
    }
}
