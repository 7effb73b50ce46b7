/* CsColorbar: a colormap's strip with its end values, under the saliency overlay. */
#include "config.h"

#include "cs-colorbar.h"
#include "render/colorbar.h"

#define BAR_H 10
#define STEPS 256

struct _CsColorbar
{
  GtkWidget parent_instance;
  cs_colormap colormap;
  GtkWidget *match;            /* weak: the picture whose width the bar takes */
  double lo, hi;
  GdkTexture *strip;           /* STEPS x 1, rebuilt when the colormap changes */
};

G_DEFINE_FINAL_TYPE (CsColorbar, cs_colorbar, GTK_TYPE_WIDGET)

static void
format_end (double v, char *buf, gsize size)
{
  g_snprintf (buf, size, "%g", v);
}

static void
cs_colorbar_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsColorbar *self = CS_COLORBAR (widget);
  int w = gtk_widget_get_width (widget);
  int bw = self->match != NULL ? MIN (gtk_widget_get_width (self->match), w) : w;
  double x = (w - bw) / 2.0;
  g_autoptr (PangoLayout) pl = NULL;
  GdkRGBA fg, frame;
  char text[32];
  int tw, th;

  if (bw <= 2)
    return;
  if (self->strip == NULL)
    {
      guint8 rgba[STEPS * 4];
      g_autoptr (GBytes) bytes = NULL;
      cs_colorbar_pixels (self->colormap, false, STEPS, 1, rgba);
      bytes = g_bytes_new (rgba, sizeof rgba);
      self->strip = gdk_memory_texture_new (STEPS, 1, GDK_MEMORY_R8G8B8A8, bytes, STEPS * 4);
    }
  gtk_snapshot_append_texture (snapshot, self->strip, &GRAPHENE_RECT_INIT (x, 0, bw, BAR_H));
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  frame = fg;
  frame.alpha *= 0.4;
  gtk_snapshot_append_border (snapshot, &GSK_ROUNDED_RECT_INIT (x, 0, bw, BAR_H),
                              (const float[4]) { 1, 1, 1, 1 },
                              (const GdkRGBA[4]) { frame, frame, frame, frame });

  pl = gtk_widget_create_pango_layout (widget, NULL);
  format_end (self->lo, text, sizeof text);
  pango_layout_set_text (pl, text, -1);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, BAR_H + 1));
  gtk_snapshot_append_layout (snapshot, pl, &fg);
  gtk_snapshot_restore (snapshot);
  format_end (self->hi, text, sizeof text);
  pango_layout_set_text (pl, text, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + bw - tw, BAR_H + 1));
  gtk_snapshot_append_layout (snapshot, pl, &fg);
  gtk_snapshot_restore (snapshot);
}

static void
cs_colorbar_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                     int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 40;
      *natural = 256;
    }
  else
    {
      g_autoptr (PangoLayout) pl = gtk_widget_create_pango_layout (widget, "0");
      int th;
      pango_layout_get_pixel_size (pl, NULL, &th);
      *minimum = *natural = BAR_H + 1 + th;
    }
}

static void
cs_colorbar_dispose (GObject *object)
{
  CsColorbar *self = CS_COLORBAR (object);

  cs_colorbar_set_match (self, NULL);
  g_clear_object (&self->strip);
  G_OBJECT_CLASS (cs_colorbar_parent_class)->dispose (object);
}

static void
cs_colorbar_class_init (CsColorbarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_colorbar_dispose;
  widget_class->snapshot = cs_colorbar_snapshot;
  widget_class->measure = cs_colorbar_measure;
  gtk_widget_class_set_css_name (widget_class, "cscolorbar");
}

static void
cs_colorbar_init (CsColorbar *self)
{
  self->colormap = CS_COLORMAP_DEFAULT;
  self->hi = 1;
  gtk_widget_add_css_class (GTK_WIDGET (self), "caption");
}

GtkWidget *
cs_colorbar_new (void)
{
  return g_object_new (CS_TYPE_COLORBAR, NULL);
}

void
cs_colorbar_set_colormap (CsColorbar *self, cs_colormap colormap)
{
  if (self->colormap == colormap && self->strip != NULL)
    return;
  self->colormap = colormap;
  g_clear_object (&self->strip);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

cs_colormap
cs_colorbar_get_colormap (CsColorbar *self)
{
  return self->colormap;
}

static void
match_resized_cb (CsColorbar *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_colorbar_set_match (CsColorbar *self, GtkWidget *match)
{
  if (self->match != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->match, self);
      g_object_remove_weak_pointer (G_OBJECT (self->match), (gpointer *) &self->match);
    }
  self->match = match;
  if (match != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (match), (gpointer *) &self->match);
      /* The picture is allocated after the bar may have drawn: redraw when it changes. */
      g_signal_connect_swapped (match, "notify::paintable", G_CALLBACK (match_resized_cb), self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_colorbar_set_range (CsColorbar *self, double lo, double hi)
{
  self->lo = lo;
  self->hi = hi;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
