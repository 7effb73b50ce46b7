/* CsConfusionMatrix: the validation confusion matrix at one epoch, row-normalised shading. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-colormap.h"
#include "cs-confusion-matrix.h"
#include "cs-panel.h"

#define LABEL_W 74.0
#define HEAD_H 16.0
#define TITLE_H 20.0

struct _CsConfusionMatrix
{
  GtkWidget parent_instance;
  const CsDataHistory *d;
  int epoch;
  int64_t *counts;              /* n_classes x n_classes, true-major */
  int hover_t, hover_p;
};

enum { SIGNAL_CELL_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsConfusionMatrix, cs_confusion_matrix, GTK_TYPE_WIDGET)

static void
recount (CsConfusionMatrix *self)
{
  const cs_history_examples *ex;
  int k, n;

  g_clear_pointer (&self->counts, g_free);
  if (self->d == NULL || self->epoch < 0 || self->epoch >= self->d->h->n_epochs)
    return;
  ex = &self->d->h->split[CS_HISTORY_TEST];
  n = self->d->h->n_classes;
  k = self->epoch;
  self->counts = g_new0 (int64_t, (gsize) n * n);
  for (int64_t i = 0; i < ex->n; i++)
    {
      int p = ex->pred[i * self->d->h->n_epochs + k];
      if (ex->label[i] < n && p < n)
        self->counts[ex->label[i] * n + p]++;
    }
}

void
cs_confusion_matrix_set_data (CsConfusionMatrix *self, const CsDataHistory *d)
{
  self->d = d;
  recount (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_confusion_matrix_set_epoch (CsConfusionMatrix *self, int epoch)
{
  self->epoch = epoch;
  recount (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
cs_confusion_matrix_get_epoch (CsConfusionMatrix *self)
{
  return self->epoch;
}

int64_t
cs_confusion_matrix_get_count (CsConfusionMatrix *self, int t, int p)
{
  int n = self->d != NULL ? self->d->h->n_classes : 0;

  if (self->counts == NULL || t < 0 || p < 0 || t >= n || p >= n)
    return 0;
  return self->counts[t * n + p];
}

static void
grid (CsConfusionMatrix *self, int w, int h, gboolean figure, double *x0, double *y0, double *cell)
{
  int n = MAX (self->d != NULL ? self->d->h->n_classes : 1, 1);
  double top = HEAD_H + (figure ? TITLE_H : 0);

  *cell = MAX (MIN ((w - LABEL_W - 4) / n, (h - top - 18) / n), 4);
  *x0 = LABEL_W;
  *y0 = top;
}

gboolean
cs_confusion_matrix_cell_at (CsConfusionMatrix *self, double x, double y, int w, int h, int *t, int *p)
{
  double x0, y0, cell;

  if (self->counts == NULL)
    return FALSE;
  grid (self, w, h, FALSE, &x0, &y0, &cell);
  if (x < x0 || y < y0)
    return FALSE;
  *p = (int) ((x - x0) / cell);
  *t = (int) ((y - y0) / cell);
  return *t < self->d->h->n_classes && *p < self->d->h->n_classes;
}

void
cs_confusion_matrix_cell_center (CsConfusionMatrix *self, int t, int p, int w, int h, double *x,
                                 double *y)
{
  double x0, y0, cell;

  grid (self, w, h, FALSE, &x0, &y0, &cell);
  *x = x0 + (p + 0.5) * cell;
  *y = y0 + (t + 0.5) * cell;
}

static void
text_at (cairo_t *cr, PangoLayout *pl, const char *text, double x, double y, double ax, double ay)
{
  int tw, th;

  pango_layout_set_text (pl, text, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  cairo_move_to (cr, x - ax * tw, y - ay * th);
  pango_cairo_show_layout (cr, pl);
}

static void
draw_cells (CsConfusionMatrix *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, double x0,
            double y0, double cell)
{
  int n = self->d->h->n_classes;

  for (int t = 0; t < n; t++)
    {
      int64_t row = 0;
      for (int p = 0; p < n; p++)
        row += self->counts[t * n + p];
      for (int p = 0; p < n; p++)
        {
          int64_t c = self->counts[t * n + p];
          double v = row > 0 ? (double) c / row : 0;
          guint8 rgb[3];
          char buf[24];

          /* Shaded by the row's fraction, so that rare classes' confusions show too. */
          cs_colormap_lookup (CS_COLORMAP_VIRIDIS, (float) v, rgb);
          cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
          cairo_rectangle (cr, x0 + p * cell, y0 + t * cell, cell - 1, cell - 1);
          cairo_fill (cr);
          if (c == 0 || cell < 14)
            continue;
          g_snprintf (buf, sizeof buf, "%lld", (long long) c);
          cairo_set_source_rgb (cr, v > 0.5 ? 0 : 1, v > 0.5 ? 0 : 1, v > 0.5 ? 0 : 1);
          text_at (cr, pl, buf, x0 + (p + 0.5) * cell, y0 + (t + 0.5) * cell, 0.5, 0.5);
        }
    }
  if (self->hover_t >= 0)
    {
      cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      cairo_set_line_width (cr, 2);
      cairo_rectangle (cr, x0 + self->hover_p * cell, y0 + self->hover_t * cell, cell - 1, cell - 1);
      cairo_stroke (cr);
    }
}

void
cs_confusion_matrix_draw (CsConfusionMatrix *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
                          int w, int h, gboolean figure)
{
  double x0, y0, cell;
  int n;

  if (self->counts == NULL)
    return;
  n = self->d->h->n_classes;
  grid (self, w, h, figure, &x0, &y0, &cell);
  gdk_cairo_set_source_rgba (cr, fg);
  if (figure)
    {
      g_autofree char *title = g_strdup_printf (_("Validation confusion matrix at epoch %d"),
                                                self->d->h->epochs[self->epoch]);
      text_at (cr, pl, title, 4, 3, 0, 0);
    }
  text_at (cr, pl, _("predicted →"), x0, y0 - HEAD_H + 1, 0, 0);
  pango_layout_set_width (pl, (int) ((LABEL_W - 6) * PANGO_SCALE));
  pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);
  for (int t = 0; t < n; t++)
    text_at (cr, pl, cs_data_history_class_name (self->d, t), 2, y0 + (t + 0.5) * cell, 0, 0.5);
  pango_layout_set_width (pl, -1);
  for (int p = 0; p < n && cell >= 14; p++)
    {
      char buf[8];
      g_snprintf (buf, sizeof buf, "%d", p);
      text_at (cr, pl, buf, x0 + (p + 0.5) * cell, y0 + n * cell + 1, 0.5, 0);
    }
  draw_cells (self, cr, pl, fg, x0, y0, cell);
}

static void
cs_confusion_matrix_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  PangoLayout *pl;
  GdkRGBA fg;
  cairo_t *cr = cs_panel_begin (widget, snapshot, "Sans 8", &pl, &fg);

  cs_confusion_matrix_draw (CS_CONFUSION_MATRIX (widget), cr, pl, &fg, w, h, FALSE);
  cs_panel_end (cr, pl);
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, CsConfusionMatrix *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int t = -1, p = -1;

  if (!cs_confusion_matrix_cell_at (self, x, y, gtk_widget_get_width (widget),
                                    gtk_widget_get_height (widget), &t, &p))
    t = p = -1;
  if (t != self->hover_t || p != self->hover_p)
    {
      self->hover_t = t;
      self->hover_p = p;
      if (t >= 0)
        {
          g_autofree char *tip = g_strdup_printf (_("%lld examples of “%s” predicted “%s”; click to list them"),
                                                  (long long) cs_confusion_matrix_get_count (self, t, p),
                                                  cs_data_history_class_name (self->d, t),
                                                  cs_data_history_class_name (self->d, p));
          gtk_widget_set_tooltip_text (widget, tip);
        }
      else
        gtk_widget_set_tooltip_text (widget, NULL);
      gtk_widget_queue_draw (widget);
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, CsConfusionMatrix *self)
{
  self->hover_t = self->hover_p = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
click_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsConfusionMatrix *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int t, p;

  if (cs_confusion_matrix_cell_at (self, x, y, gtk_widget_get_width (widget),
                                   gtk_widget_get_height (widget), &t, &p))
    g_signal_emit (self, signals[SIGNAL_CELL_ACTIVATED], 0, t, p);
}

static void
cs_confusion_matrix_finalize (GObject *object)
{
  g_free (CS_CONFUSION_MATRIX (object)->counts);
  G_OBJECT_CLASS (cs_confusion_matrix_parent_class)->finalize (object);
}

static void
cs_confusion_matrix_class_init (CsConfusionMatrixClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cs_confusion_matrix_finalize;
  widget_class->snapshot = cs_confusion_matrix_snapshot;
  /* ::cell-activated (true class, predicted class) */
  signals[SIGNAL_CELL_ACTIVATED] =
    g_signal_new ("cell-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  gtk_widget_class_set_css_name (widget_class, "csconfusionmatrix");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_confusion_matrix_init (CsConfusionMatrix *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->epoch = -1;
  self->hover_t = self->hover_p = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (click, "pressed", G_CALLBACK (click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 200);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Validation confusion matrix at the selected epoch; click a cell to list its examples"),
                                  -1);
}
