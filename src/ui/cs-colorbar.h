/* CsColorbar: the overlay's colour scale, as the CLI's sheets draw it (the core's strip from
 * render/colorbar.h, framed, with its end values), as wide as the picture it explains. */
#pragma once

#include <gtk/gtk.h>

#include "render/colormap.h"

G_BEGIN_DECLS

#define CS_TYPE_COLORBAR (cs_colorbar_get_type ())

G_DECLARE_FINAL_TYPE (CsColorbar, cs_colorbar, CS, COLORBAR, GtkWidget)

GtkWidget *cs_colorbar_new (void);
void cs_colorbar_set_colormap (CsColorbar *self, cs_colormap colormap);
cs_colormap cs_colorbar_get_colormap (CsColorbar *self);
/* The bar spans the width of match (centred), or its own width when NULL. */
void cs_colorbar_set_match (CsColorbar *self, GtkWidget *match);
/* The end labels (the overlay map's range: 0 and 1). */
void cs_colorbar_set_range (CsColorbar *self, double lo, double hi);

G_END_DECLS
