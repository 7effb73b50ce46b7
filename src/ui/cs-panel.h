/* Cairo drawing for the widgets that draw themselves in one piece (the Data view's charts): a
 * context over the whole widget, a layout in a small font and the theme's foreground colour. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* font: a Pango description ("Sans 8"). Finish with cs_panel_end. */
cairo_t *cs_panel_begin (GtkWidget *widget, GtkSnapshot *snapshot, const char *font, PangoLayout **pl,
                         GdkRGBA *fg);
void cs_panel_end (cairo_t *cr, PangoLayout *pl);

/* An 8-bit image of w x h pixels painted unsmoothed into the size x size square at (x, y):
 * interleaved RGB when rgb, else planar with 1 (grey) or 3 channels. */
void cs_panel_paint_pixels (cairo_t *cr, const guint8 *px, int w, int h, int channels, gboolean rgb,
                            double x, double y, double size);

G_END_DECLS
