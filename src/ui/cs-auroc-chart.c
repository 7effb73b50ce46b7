/* CsAurocChart: the early-epoch AUROC as a line over k. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-auroc-chart.h"
#include "cs-panel.h"

#define ML 34.0
#define MR 8.0
#define MB 16.0
#define TITLE_H 20.0

struct _CsAurocChart
{
  GtkWidget parent_instance;
  const CsDataHistory *d;
  int epoch;
};

G_DEFINE_FINAL_TYPE (CsAurocChart, cs_auroc_chart, GTK_TYPE_WIDGET)

void
cs_auroc_chart_set_data (CsAurocChart *self, const CsDataHistory *d)
{
  self->d = d;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_auroc_chart_set_epoch (CsAurocChart *self, int epoch)
{
  self->epoch = epoch;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
label (cairo_t *cr, PangoLayout *pl, const char *text, double x, double y, double ax)
{
  int tw, th;

  pango_layout_set_text (pl, text, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  cairo_move_to (cr, x - ax * tw, y - th / 2.0);
  pango_cairo_show_layout (cr, pl);
}

void
cs_auroc_chart_draw (CsAurocChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int w,
                     int h, gboolean figure)
{
  double top = figure ? TITLE_H + 6 : 6, pw = w - ML - MR, ph = h - top - MB;
  int n = self->d != NULL ? self->d->h->n_epochs : 0;
  gboolean started = FALSE;
  char buf[16];

  if (n == 0 || pw < 10 || ph < 10)
    return;
  gdk_cairo_set_source_rgba (cr, fg);
  if (figure)
    label (cr, pl, _("Anticipating the final validation mistakes from epochs 0..k (AUROC)"), 4, 10, 0);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.5);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, ML + 0.5, top + 0.5, pw, ph);
  cairo_stroke (cr);
  /* Chance, dashed: the first epochs can rank worse than it. */
  cairo_set_dash (cr, (double[]) { 3, 3 }, 2, 0);
  cairo_move_to (cr, ML, top + ph / 2);
  cairo_rel_line_to (cr, pw, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  gdk_cairo_set_source_rgba (cr, fg);
  label (cr, pl, "1.0", ML - 3, top, 1);
  label (cr, pl, "0.5", ML - 3, top + ph / 2, 1);
  label (cr, pl, "0.0", ML - 3, top + ph, 1);
  for (int k = 0; k < n; k += MAX (1, n / 6))
    {
      g_snprintf (buf, sizeof buf, "%d", self->d->h->epochs[k]);
      label (cr, pl, buf, ML + pw * (n > 1 ? (double) k / (n - 1) : 0.5), top + ph + 8, 0.5);
    }
  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
  cairo_set_line_width (cr, 1.5);
  for (int k = 0; k < n; k++)
    {
      double v = self->d->auroc[k];
      double x = ML + pw * (n > 1 ? (double) k / (n - 1) : 0.5);
      double y = top + ph * (1 - CLAMP (v, 0, 1));
      if (!isfinite (v))
        {
          started = FALSE;
          continue;
        }
      if (started)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      started = TRUE;
    }
  cairo_stroke (cr);
  if (!figure && self->epoch >= 0 && self->epoch < n && isfinite (self->d->auroc[self->epoch]))
    {
      double x = ML + pw * (n > 1 ? (double) self->epoch / (n - 1) : 0.5);
      double y = top + ph * (1 - CLAMP (self->d->auroc[self->epoch], 0, 1));
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, y, 3.5, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
cs_auroc_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  PangoLayout *pl;
  GdkRGBA fg;
  cairo_t *cr = cs_panel_begin (widget, snapshot, "Sans 7", &pl, &fg);

  cs_auroc_chart_draw (CS_AUROC_CHART (widget), cr, pl, &fg, w, h, FALSE);
  cs_panel_end (cr, pl);
}

static void
cs_auroc_chart_class_init (CsAurocChartClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = cs_auroc_chart_snapshot;
  gtk_widget_class_set_css_name (widget_class, "csaurocchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_auroc_chart_init (CsAurocChart *self)
{
  self->epoch = -1;
  gtk_widget_set_size_request (GTK_WIDGET (self), 200, 70);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Early-epoch AUROC of the final validation mistakes"), -1);
}
