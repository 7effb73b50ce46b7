/* Colormaps for maps in [0, 1] in the app, and textures from float maps. A local stand-in
 * until the core's render/ colormaps are on main. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  CS_COLORMAP_INFERNO = 0,
  CS_COLORMAP_VIRIDIS,
  CS_COLORMAP_JET,
  CS_COLORMAP_GRAY,
  CS_COLORMAP_COUNT
} CsColormap;

const char *cs_colormap_id (CsColormap cmap);      /* "inferno" */
const char *cs_colormap_title (CsColormap cmap);   /* "Inferno" */
CsColormap cs_colormap_from_id (const char *id);   /* INFERNO when unknown */

/* The colour of v (clamped to [0, 1]) as 8-bit RGB. */
void cs_colormap_rgb (CsColormap cmap, float v, guint8 rgb[3]);

/* A texture of a width x height map; values are scaled from [lo, hi] to [0, 1] (lo == hi:
 * the map's own range). alpha_by_value: transparent where the map is low (overlays). */
GdkTexture *cs_colormap_texture (CsColormap cmap, const float *map, int width, int height,
                                 float lo, float hi, gboolean alpha_by_value);

G_END_DECLS
