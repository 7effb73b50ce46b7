/* Colormaps as a few control points of matplotlib's maps, linearly interpolated. */
#include "config.h"

#include <math.h>

#include "cs-colormap.h"

typedef struct { float r, g, b; } Stop;

static const Stop inferno[] = {
  { 0.001f, 0.000f, 0.014f }, { 0.122f, 0.047f, 0.283f }, { 0.316f, 0.071f, 0.485f },
  { 0.499f, 0.137f, 0.506f }, { 0.683f, 0.197f, 0.470f }, { 0.865f, 0.317f, 0.226f },
  { 0.961f, 0.492f, 0.069f }, { 0.988f, 0.705f, 0.206f }, { 0.988f, 0.998f, 0.645f },
};
static const Stop viridis[] = {
  { 0.267f, 0.005f, 0.329f }, { 0.283f, 0.141f, 0.458f }, { 0.254f, 0.265f, 0.530f },
  { 0.207f, 0.372f, 0.553f }, { 0.164f, 0.471f, 0.558f }, { 0.128f, 0.567f, 0.551f },
  { 0.135f, 0.659f, 0.518f }, { 0.267f, 0.749f, 0.441f }, { 0.478f, 0.821f, 0.318f },
  { 0.741f, 0.873f, 0.150f }, { 0.993f, 0.906f, 0.144f },
};
static const Stop jet[] = {
  { 0.0f, 0.0f, 0.5f }, { 0.0f, 0.0f, 1.0f }, { 0.0f, 0.5f, 1.0f }, { 0.0f, 1.0f, 1.0f },
  { 0.5f, 1.0f, 0.5f }, { 1.0f, 1.0f, 0.0f }, { 1.0f, 0.5f, 0.0f }, { 1.0f, 0.0f, 0.0f },
  { 0.5f, 0.0f, 0.0f },
};
static const Stop gray[] = { { 0, 0, 0 }, { 1, 1, 1 } };

static const struct { const char *id, *title; const Stop *stops; int n; } maps[] = {
  { "inferno", "Inferno", inferno, G_N_ELEMENTS (inferno) },
  { "viridis", "Viridis", viridis, G_N_ELEMENTS (viridis) },
  { "jet", "Jet", jet, G_N_ELEMENTS (jet) },
  { "gray", "Gray", gray, G_N_ELEMENTS (gray) },
};

const char *
cs_colormap_id (CsColormap cmap)
{
  return maps[cmap < CS_COLORMAP_COUNT ? cmap : 0].id;
}

const char *
cs_colormap_title (CsColormap cmap)
{
  return maps[cmap < CS_COLORMAP_COUNT ? cmap : 0].title;
}

CsColormap
cs_colormap_from_id (const char *id)
{
  for (int i = 0; i < CS_COLORMAP_COUNT; i++)
    if (g_strcmp0 (id, maps[i].id) == 0)
      return i;
  return CS_COLORMAP_INFERNO;
}

void
cs_colormap_rgb (CsColormap cmap, float v, guint8 rgb[3])
{
  const Stop *s = maps[cmap < CS_COLORMAP_COUNT ? cmap : 0].stops;
  int n = maps[cmap < CS_COLORMAP_COUNT ? cmap : 0].n;
  float x, t;
  int i;

  if (!(v >= 0.0f))
    v = 0.0f;
  if (v > 1.0f)
    v = 1.0f;
  x = v * (float) (n - 1);
  i = MIN ((int) x, n - 2);
  t = x - (float) i;
  rgb[0] = (guint8) lrintf (255.0f * (s[i].r + t * (s[i + 1].r - s[i].r)));
  rgb[1] = (guint8) lrintf (255.0f * (s[i].g + t * (s[i + 1].g - s[i].g)));
  rgb[2] = (guint8) lrintf (255.0f * (s[i].b + t * (s[i + 1].b - s[i].b)));
}

GdkTexture *
cs_colormap_texture (CsColormap cmap, const float *map, int width, int height, float lo, float hi,
                     gboolean alpha_by_value)
{
  gsize n = (gsize) width * height;
  guint8 *rgba;
  GBytes *bytes;
  GdkTexture *texture;
  float scale;

  if (lo == hi)
    {
      lo = INFINITY;
      hi = -INFINITY;
      for (gsize i = 0; i < n; i++)
        if (isfinite (map[i]))
          {
            lo = MIN (lo, map[i]);
            hi = MAX (hi, map[i]);
          }
      if (!(hi > lo))
        {
          hi = lo + 1.0f;
          if (!isfinite (hi))
            lo = 0.0f, hi = 1.0f;
        }
    }
  scale = 1.0f / (hi - lo);

  rgba = g_malloc (n * 4);
  for (gsize i = 0; i < n; i++)
    {
      float v = (map[i] - lo) * scale;
      cs_colormap_rgb (cmap, v, rgba + i * 4);
      /* Premultiplied below: a low value fades out so the image shows through. */
      rgba[i * 4 + 3] = alpha_by_value ? (guint8) lrintf (255.0f * CLAMP (0.25f + v, 0.0f, 1.0f))
                                       : 255;
      if (alpha_by_value)
        for (int c = 0; c < 3; c++)
          rgba[i * 4 + c] = (guint8) ((rgba[i * 4 + c] * rgba[i * 4 + 3] + 127) / 255);
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  texture = gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes,
                                    (gsize) width * 4);
  g_bytes_unref (bytes);
  return texture;
}
