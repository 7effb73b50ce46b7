/* Textures from float maps through the core's colormaps (render/colormap.h). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-colormap.h"

const char *
cs_colormap_title (cs_colormap cmap)
{
  switch (cmap)
    {
    case CS_COLORMAP_JET: return "Jet";
    case CS_COLORMAP_VIRIDIS: return "Viridis";
    case CS_COLORMAP_INFERNO: return "Inferno";
    case CS_COLORMAP_GRAY: return _("Gray");
    case CS_COLORMAP_DIVERGING: return _("Diverging");
    default: return cs_colormap_name (cmap);
    }
}

cs_colormap
cs_colormap_from_id (const char *id)
{
  cs_colormap c = id != NULL ? cs_colormap_from_name (id) : CS_COLORMAP_COUNT;

  return c < CS_COLORMAP_COUNT ? c : CS_COLORMAP_INFERNO;
}

GdkTexture *
cs_colormap_texture (cs_colormap cmap, const float *map, int width, int height, float lo, float hi,
                     gboolean alpha_by_value)
{
  gsize n = (gsize) width * height;
  gboolean is_signed = cs_colormap_is_signed (cmap);
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
      guint8 a;

      /* A signed map takes [-1, 1]: the map's [0, 1] spreads over it. */
      cs_colormap_lookup (cmap, is_signed ? 2.0f * v - 1.0f : v, rgba + i * 4);
      /* Premultiplied: a low value fades out so the image shows through. */
      a = alpha_by_value ? (guint8) lrintf (255.0f * CLAMP (0.25f + v, 0.0f, 1.0f)) : 255;
      rgba[i * 4 + 3] = a;
      if (alpha_by_value)
        for (int c = 0; c < 3; c++)
          rgba[i * 4 + c] = (guint8) ((rgba[i * 4 + c] * a + 127) / 255);
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  texture = gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes,
                                    (gsize) width * 4);
  g_bytes_unref (bytes);
  return texture;
}
