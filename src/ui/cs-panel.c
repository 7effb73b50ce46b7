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
