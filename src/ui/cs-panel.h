/* Cairo drawing for the widgets that draw themselves in one piece (the Data view's charts): a
 * context over the whole widget, a layout in a small font and the theme's foreground colour. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* font: a Pango description ("Sans 8"). Finish with cs_panel_end. */
cairo_t *cs_panel_begin (GtkWidget *widget, GtkSnapshot *snapshot, const char *font, PangoLayout **pl,
                         GdkRGBA *fg);
void cs_panel_end (cairo_t *cr, PangoLayout *pl);

G_END_DECLS
