/* Colormaps in the app: the core's render/ colormaps, plus textures from float maps. */
#pragma once

#include <gtk/gtk.h>

#include "render/colormap.h"

G_BEGIN_DECLS

const char *cs_colormap_title (cs_colormap cmap);   /* "Inferno" */
/* By name as in GSettings ("inferno"); inferno when unknown. */
cs_colormap cs_colormap_from_id (const char *id);

/* A texture of a width x height map; values are scaled from [lo, hi] to [0, 1] (lo == hi:
 * the map's own range). alpha_by_value: transparent where the map is low (overlays). */
GdkTexture *cs_colormap_texture (cs_colormap cmap, const float *map, int width, int height,
                                 float lo, float hi, gboolean alpha_by_value);

G_END_DECLS
