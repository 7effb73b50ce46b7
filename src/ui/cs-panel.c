/* Cairo drawing set-up shared by the self-drawn chart widgets. */
#include "config.h"

#include "cs-panel.h"

cairo_t *
cs_panel_begin (GtkWidget *widget, GtkSnapshot *snapshot, const char *font, PangoLayout **pl,
                GdkRGBA *fg)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  cairo_t *cr;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  *pl = gtk_widget_create_pango_layout (widget, NULL);
  pango_layout_set_font_description (*pl, desc);
  pango_font_description_free (desc);
  return cr;
}

void
cs_panel_end (cairo_t *cr, PangoLayout *pl)
{
  g_object_unref (pl);
  cairo_destroy (cr);
}

void
cs_panel_paint_pixels (cairo_t *cr, const guint8 *px, int w, int h, int channels, gboolean rgb,
                       double x, double y, double size)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  guint8 *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  gsize plane = (gsize) w * h;

  cairo_surface_flush (s);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++)
      {
        gsize p = (gsize) r * w + c;
        guint8 red, green, blue;
        if (rgb)
          red = px[3 * p], green = px[3 * p + 1], blue = px[3 * p + 2];
        else
          red = px[p], green = px[(channels > 1 ? plane : 0) + p], blue = px[(channels > 1 ? 2 * plane : 0) + p];
        ((guint32 *) (void *) (data + r * stride))[c] = (guint32) red << 16 | (guint32) green << 8 | blue;
      }
  cairo_surface_mark_dirty (s);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, size / w, size / h);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (s);
}
