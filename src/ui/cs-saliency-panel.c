/* CsSaliencyPanel: one cell of the comparison grid and its states (running with a progress
 * ring and best-so-far maps, finished with its time, stopped by the budget, failed). */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-compare-grid.h"
#include "cs-saliency-panel.h"
#include "base/duration.h"

/* The progress ring: a faint full circle and an arc for the fraction done. */
static void
draw_ring (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  CsSaliencyPanel *p = data;
  GdkRGBA color;
  double r = MIN (width, height) / 2.0 - 1.5;

  if (!p->running)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &color);
  cairo_set_line_width (cr, 2.5);
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, 0.2 * color.alpha);
  cairo_arc (cr, width / 2.0, height / 2.0, r, 0, 2 * G_PI);
  cairo_stroke (cr);
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, color.alpha);
  cairo_arc (cr, width / 2.0, height / 2.0, r, -G_PI / 2, -G_PI / 2 + 2 * G_PI * CLAMP (p->fraction, 0.02, 1.0));
  cairo_stroke (cr);
}

void
cs_saliency_panel_set_running (CsSaliencyPanel *p, gboolean running, double fraction)
{
  p->running = running;
  p->fraction = fraction;
  gtk_widget_set_visible (p->ring, running);
  gtk_widget_queue_draw (p->ring);
}

void
cs_saliency_panel_clear (CsSaliencyPanel *p)
{
  g_clear_pointer (&p->values, g_free);
  g_clear_pointer (&p->error, g_free);
  p->completed = 0;
  p->floor = 0;
  p->n_partials = 0;
  gtk_picture_set_paintable (GTK_PICTURE (p->map), NULL);
  gtk_label_set_text (GTK_LABEL (p->time), "");
  gtk_widget_set_visible (p->refine, FALSE);
  gtk_widget_set_visible (p->note, FALSE);
  cs_saliency_panel_set_running (p, TRUE, 0);
}

void
cs_saliency_panel_build (CsSaliencyPanel *p, int m, GCallback refine, gpointer data)
{
  GtkWidget *frame = gtk_aspect_frame_new (0.5f, 0.5f, 1.0f, FALSE);
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *status = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);

  p->root = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  p->image = gtk_picture_new ();
  p->map = gtk_picture_new ();
  gtk_picture_set_content_fit (GTK_PICTURE (p->image), GTK_CONTENT_FIT_FILL);
  gtk_picture_set_content_fit (GTK_PICTURE (p->map), GTK_CONTENT_FIT_FILL);
  /* Small enough for all 13 methods at once in the grid, which grows the pictures to fit. */
  gtk_widget_set_size_request (frame, CS_COMPARE_GRID_PICTURE_MIN, CS_COMPARE_GRID_PICTURE_MIN);
  gtk_widget_set_vexpand (frame, TRUE);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), p->image);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), p->map);
  /* A CAM that is negative everywhere before its ReLU is legitimately empty: the cell says so,
   * as the overlay's caption and the CLI's sheets do, rather than show a bare input. */
  /* Short on the picture (cells are ~100 px wide), the whole reason in the tooltip. */
  p->note = gtk_label_new (_("Map zero everywhere"));
  gtk_widget_set_tooltip_text (p->note, _("The map is zero everywhere: nothing at this layer speaks for this class"));
  gtk_label_set_wrap (GTK_LABEL (p->note), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (p->note), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (p->note), 1);
  gtk_label_set_xalign (GTK_LABEL (p->note), 0);
  gtk_widget_set_valign (p->note, GTK_ALIGN_END);
  gtk_widget_add_css_class (p->note, "caption");
  gtk_widget_add_css_class (p->note, "empty-map-note");
  gtk_widget_set_visible (p->note, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), p->note);
  gtk_aspect_frame_set_child (GTK_ASPECT_FRAME (frame), overlay);
  p->title = gtk_label_new (cs_ui_method_title (m));
  /* One line, ellipsized in the grid's narrow cells (a wrapped title would be as wide as its
   * longest word, "Backpropagation", and widen every cell); the full title in the tooltip. */
  gtk_label_set_ellipsize (GTK_LABEL (p->title), PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (p->title, cs_ui_method_title (m));
  gtk_widget_set_hexpand (p->title, TRUE);
  gtk_label_set_xalign (GTK_LABEL (p->title), 0);
  gtk_widget_add_css_class (p->title, "caption-heading");
  p->time = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (p->time), 0);
  gtk_widget_set_hexpand (p->time, TRUE);
  /* Narrow cells: the status line gives way rather than widen every cell of the grid. */
  gtk_label_set_ellipsize (GTK_LABEL (p->time), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (p->time, "caption");
  gtk_widget_add_css_class (p->time, "dim-label");
  p->ring = gtk_drawing_area_new ();
  gtk_widget_set_size_request (p->ring, 14, 14);
  gtk_widget_set_valign (p->ring, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (p->ring), draw_ring, p, NULL);
  p->refine = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  /* Over the picture's corner, not in the status line: ResNet-18's narrow cells left the
   * fraction beside the button room for "3…" of "35 %". */
  gtk_widget_add_css_class (p->refine, "osd");
  gtk_widget_add_css_class (p->refine, "circular");
  gtk_widget_set_halign (p->refine, GTK_ALIGN_END);
  gtk_widget_set_valign (p->refine, GTK_ALIGN_START);
  gtk_widget_set_margin_top (p->refine, 2);
  gtk_widget_set_margin_end (p->refine, 2);
  gtk_widget_set_tooltip_text (p->refine, _("Refine further"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (p->refine), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Refine further"), -1);
  gtk_widget_set_visible (p->refine, FALSE);
  g_object_set_data (G_OBJECT (p->refine), "method", GINT_TO_POINTER (m));
  g_signal_connect (p->refine, "clicked", refine, data);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), p->refine);
  /* Title on its own line, the status (ring, time or fraction) under it: narrow panels keep
   * both readable. */
  gtk_box_append (GTK_BOX (header), p->title);
  gtk_box_append (GTK_BOX (status), p->ring);
  gtk_box_append (GTK_BOX (status), p->time);
  gtk_box_append (GTK_BOX (p->root), frame);
  gtk_box_append (GTK_BOX (p->root), header);
  gtk_box_append (GTK_BOX (p->root), status);
  gtk_widget_add_css_class (p->root, "compare-panel");
}

/* "17 %", or "<1 %" for work begun but under half a percent (not "0 %", which reads as none). */
static char *
percent_done (double fraction)
{
  if (fraction > 0.0 && fraction < 0.005)
    return g_strdup ("<1 %");
  return g_strdup_printf ("%.0f %%", 100.0 * fraction);
}

void
cs_saliency_panel_recolor (CsSaliencyPanel *p, cs_colormap colormap)
{
  g_autoptr (GdkTexture) t = NULL;

  if (p->root == NULL || p->values == NULL)
    return;
  t = cs_colormap_texture (colormap, p->values, p->width, p->height, 0.0f, 1.0f, TRUE);
  gtk_picture_set_paintable (GTK_PICTURE (p->map), GDK_PAINTABLE (t));
}

void
cs_saliency_panel_release (CsSaliencyPanel *p)
{
  g_clear_pointer (&p->values, g_free);
  g_clear_pointer (&p->error, g_free);
  g_clear_pointer (&p->resume, cs_resume_free);
  p->root = NULL;
  p->serial = 0;
}

void
cs_saliency_panel_show_partial (CsSaliencyPanel *p, const float *map, int width, int height,
                                double fraction, cs_colormap colormap)
{
  g_autofree char *text = NULL;

  p->fraction = fraction;
  gtk_widget_queue_draw (p->ring);
  if (fraction <= p->floor)
    return;
  g_free (p->values);
  p->values = g_memdup2 (map, (gsize) width * height * sizeof (float));
  p->width = width;
  p->height = height;
  p->completed = fraction;
  p->n_partials++;
  text = percent_done (fraction);
  gtk_label_set_text (GTK_LABEL (p->time), text);
  cs_saliency_panel_recolor (p, colormap);
}

void
cs_saliency_panel_show_error (CsSaliencyPanel *p, const char *message)
{
  cs_saliency_panel_set_running (p, FALSE, 1);
  gtk_widget_set_visible (p->note, FALSE);
  gtk_label_set_text (GTK_LABEL (p->time), _("n/a"));
  gtk_widget_set_tooltip_text (p->root, message);
  g_free (p->error);
  p->error = g_strdup (message);
}

void
cs_saliency_panel_show_result (CsSaliencyPanel *p, CsSaliencyResult *r, cs_colormap colormap)
{
  char time[32];

  cs_format_duration (r->seconds, time, sizeof time);
  cs_saliency_panel_set_running (p, FALSE, 1);
  g_free (p->values);
  p->values = g_steal_pointer (&r->map);
  p->width = r->width;
  p->height = r->height;
  p->seconds = r->seconds;
  p->completed = r->completed;
  g_clear_pointer (&p->error, g_free);
  gtk_widget_set_visible (p->refine, r->completed < 1.0);
  if (r->completed < 1.0)
    {
      /* Only the fraction on the cell: beside the refine button a narrow cell (ResNet-18's
       * grid in the default window) had room for "1…" of "10.0 s · 17 %". The time is in the
       * tooltip. */
      g_autofree char *stopped = percent_done (r->completed);
      g_autofree char *why = g_strdup_printf (_("The time budget stopped the refinement after %.0f %% "
                                                "of the work (%d passes)"),
                                              100.0 * r->completed, r->passes);
      g_autofree char *tip = g_strdup_printf ("%s · %s", time, why);
      gtk_label_set_text (GTK_LABEL (p->time), stopped);
      gtk_widget_set_tooltip_text (p->root, tip);
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (p->time), time);
      gtk_widget_set_tooltip_text (p->root, NULL);
    }
  {
    gboolean empty = p->values != NULL;
    for (int i = 0; empty && i < p->width * p->height; i++)
      empty = p->values[i] == 0.0f;
    gtk_widget_set_visible (p->note, empty);
  }
  cs_saliency_panel_recolor (p, colormap);
}

const char *
cs_saliency_panel_get_note (CsSaliencyPanel *p)
{
  return p->root != NULL && gtk_widget_get_visible (p->note) ? gtk_label_get_text (GTK_LABEL (p->note)) : NULL;
}
