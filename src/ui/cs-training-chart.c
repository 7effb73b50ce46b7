/* CsTrainingChart: two panels (loss, accuracy) drawn with Cairo into a cached render node, with
 * both overfitting onsets marked; the epoch cursor and the hover read-out are drawn on top each
 * frame. */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "cs-training-chart.h"

#include "analysis/overfitting.h"
#include "render/ticks.h"

#define PAD_L 46.0
#define PAD_R 12.0
#define PAD_T 22.0
#define PAD_B 26.0

struct _CsTrainingChart
{
  GtkWidget parent_instance;
  CsSession *session;
  CsModelSet *set;
  int onset;
  int weight_onset;            /* by the weights (from the run's analysis), or -1 */
  GskRenderNode *cache;        /* the static part, for cache_w x cache_h */
  int cache_w, cache_h;
  double hover_x;              /* -1 when the pointer is outside */
  double hover_y;
  CsTrainingMark marks[CS_TRAINING_MAX_MARKS]; /* validation-free signal onsets */
  int n_marks;
};

G_DEFINE_FINAL_TYPE (CsTrainingChart, cs_training_chart, GTK_TYPE_WIDGET)

int
cs_training_onset_by_validation (const double *train_loss, const double *val_loss, int n)
{
  return cs_onset_by_validation (train_loss, val_loss, n, CS_ONSET_PATIENCE, CS_ONSET_MIN_DELTA);
}

typedef struct
{
  double x0, y0, w, h;         /* plot area */
  double lo, hi;               /* y range */
  int n;
} Plot;

static double
px (const Plot *p, int i)
{
  return p->x0 + (p->n > 1 ? p->w * i / (p->n - 1) : p->w / 2);
}

static double
py (const Plot *p, double v)
{
  return p->y0 + p->h * (1 - (v - p->lo) / (p->hi - p->lo));
}

static void
series_range (const double *a, const double *b, int n, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      if (isfinite (a[i])) *lo = MIN (*lo, a[i]), *hi = MAX (*hi, a[i]);
      if (isfinite (b[i])) *lo = MIN (*lo, b[i]), *hi = MAX (*hi, b[i]);
    }
  if (!isfinite (*lo))
    *lo = 0, *hi = 1;
  if (*hi - *lo < 1e-9)
    *hi = *lo + 1;
  {
    double pad = (*hi - *lo) * 0.08;
    *lo -= pad;
    *hi += pad;
  }
}

static void
line (cairo_t *cr, const Plot *p, const double *v, const char *color, gboolean dashed)
{
  GdkRGBA c;
  gboolean pen = FALSE;

  gdk_rgba_parse (&c, color);
  gdk_cairo_set_source_rgba (cr, &c);
  cairo_set_line_width (cr, 2);
  if (dashed)
    cairo_set_dash (cr, (double[]) { 5, 3 }, 2, 0);
  for (int i = 0; i < p->n; i++)
    {
      if (!isfinite (v[i]))
        {
          pen = FALSE;
          continue;
        }
      if (pen)
        cairo_line_to (cr, px (p, i), py (p, v[i]));
      else
        cairo_move_to (cr, px (p, i), py (p, v[i]));
      pen = TRUE;
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  for (int i = 0; i < p->n; i++)
    if (isfinite (v[i]))
      {
        cairo_arc (cr, px (p, i), py (p, v[i]), 2.5, 0, 2 * G_PI);
        cairo_fill (cr);
      }
}

static void
text (cairo_t *cr, PangoLayout *pl, double x, double y, double align, const char *s)
{
  int w, h;

  pango_layout_set_text (pl, s, -1);
  pango_layout_get_pixel_size (pl, &w, &h);
  cairo_move_to (cr, x - w * align, y - h / 2.0);
  pango_cairo_show_layout (cr, pl);
}

static void
plot_rect (int which, int width, int height, Plot *p)
{
  double half = width / 2.0;

  p->x0 = which * half + PAD_L;
  p->y0 = PAD_T;
  p->w = half - PAD_L - PAD_R;
  p->h = height - PAD_T - PAD_B;
}

/* A vertical dashed marker at epoch index i, labelled at the top (loss panel only). */
static void
draw_marker (cairo_t *cr, PangoLayout *pl, const Plot *p, int i, const GdkRGBA *color,
             const double *dash, const char *label, double label_y)
{
  double x = px (p, i);

  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_dash (cr, dash, 2, 0);
  cairo_move_to (cr, x, p->y0);
  cairo_line_to (cr, x, p->y0 + p->h);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  if (label != NULL)
    {
      /* Left of the line when it sits in the right half, so the label stays in the plot. */
      gboolean right = x > p->x0 + p->w / 2;
      text (cr, pl, right ? x - 4 : x + 4, label_y, right ? 1.0 : 0.0, label);
    }
}

static void
draw_panel (const cs_run *run, int onset, int weight_onset, cairo_t *cr, PangoLayout *pl,
            const GdkRGBA *fg, int which, int width, int height)
{
  int n = run->n_epochs;
  g_autofree double *train = g_new (double, n);
  g_autofree double *val = g_new (double, n);
  Plot p;
  char buf[32];

  for (int i = 0; i < n; i++)
    {
      train[i] = which == 0 ? run->epochs[i].train_loss : run->epochs[i].train_accuracy;
      val[i] = which == 0 ? run->epochs[i].val_loss : run->epochs[i].val_accuracy;
    }
  plot_rect (which, width, height, &p);
  p.n = n;
  series_range (train, val, n, &p.lo, &p.hi);
  /* Losses are never negative and accuracies never above 100 %: no padding beyond. */
  p.lo = MAX (p.lo, 0.0);
  if (which == 1 && p.hi > 1.0 && p.hi < 1.2)
    p.hi = 1.0;
  if (p.w < 20 || p.h < 20)
    return;

  /* Axes, grid, ticks. */
  cairo_set_line_width (cr, 1);
  {
    /* Ticks at 1, 2, 5 × 10^k, in percent when the accuracy is a fraction, so labels read
     * 20 %, 40 %, not 27 %, 51 %; about one per 28 px, 3 to 6. */
    gboolean percent = which == 1 && p.hi <= 1.5;
    double scale = percent ? 100 : 1, first, step;
    int decimals, n_ticks = cs_nice_ticks (p.lo * scale, p.hi * scale, CLAMP ((int) (p.h / 28), 3, 6),
                                           &first, &step, &decimals);
    for (int t = 0; t < n_ticks; t++)
      {
        double tv = first + step * t, v = tv / scale;
        cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.12);
        cairo_move_to (cr, p.x0, py (&p, v));
        cairo_line_to (cr, p.x0 + p.w, py (&p, v));
        cairo_stroke (cr);
        cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.7);
        g_snprintf (buf, sizeof buf, percent ? "%.*f%%" : "%.*f", decimals, tv);
        text (cr, pl, p.x0 - 4, py (&p, v), 1.0, buf);
      }
  }
  {
    int step = MAX (1, n / 8);
    for (int i = 0; i < n; i += step)
      {
        g_snprintf (buf, sizeof buf, "%d", run->epochs[i].epoch);
        text (cr, pl, px (&p, i), p.y0 + p.h + 10, 0.5, buf);
      }
  }
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.5);
  cairo_rectangle (cr, p.x0, p.y0, p.w, p.h);
  cairo_stroke (cr);

  /* The generalisation gap: the band between the two curves. */
  {
    gboolean started = FALSE;
    int last = -1;
    cairo_new_path (cr);
    for (int i = 0; i < n; i++)
      if (isfinite (train[i]) && isfinite (val[i]))
        {
          if (!started)
            cairo_move_to (cr, px (&p, i), py (&p, train[i]));
          else
            cairo_line_to (cr, px (&p, i), py (&p, train[i]));
          started = TRUE;
          last = i;
        }
    for (int i = last; i >= 0 && started; i--)
      if (isfinite (train[i]) && isfinite (val[i]))
        cairo_line_to (cr, px (&p, i), py (&p, val[i]));
    cairo_close_path (cr);
    cairo_set_source_rgba (cr, 0.90, 0.38, 0.0, 0.16);
    cairo_fill (cr);
  }

  /* The onsets: by validation (red) and by the weights alone (purple). */
  if (onset >= 0)
    draw_marker (cr, pl, &p, onset, &(GdkRGBA) { 0.75, 0.11, 0.16, 0.9 }, (double[]) { 4, 3 },
                 which == 0 ? _("overfitting from here (validation)") : NULL, p.y0 + 8);
  if (weight_onset >= 0)
    draw_marker (cr, pl, &p, weight_onset, &(GdkRGBA) { 0.57, 0.25, 0.67, 0.9 },
                 (double[]) { 2, 3 }, which == 0 ? _("weights plateau") : NULL, p.y0 + 22);

  line (cr, &p, train, "#3584e4", FALSE);
  line (cr, &p, val, "#e66100", FALSE);

  /* Title and legend. */
  gdk_cairo_set_source_rgba (cr, fg);
  text (cr, pl, p.x0, PAD_T / 2, 0.0, which == 0 ? _("Loss") : _("Accuracy"));
  {
    /* Laid out from the labels' widths: translations are longer than "train". */
    const char *train_label = _("train"), *val_label = _("validation");
    int tw, vw, th;
    double lx;

    pango_layout_set_text (pl, train_label, -1);
    pango_layout_get_pixel_size (pl, &tw, &th);
    pango_layout_set_text (pl, val_label, -1);
    pango_layout_get_pixel_size (pl, &vw, &th);
    lx = p.x0 + p.w - (18 + tw + 14 + 18 + vw);
    cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
    cairo_rectangle (cr, lx, PAD_T / 2 - 2, 14, 4);
    cairo_fill (cr);
    gdk_cairo_set_source_rgba (cr, fg);
    text (cr, pl, lx + 18, PAD_T / 2, 0.0, train_label);
    lx += 18 + tw + 14;
    cairo_set_source_rgb (cr, 0.90, 0.38, 0.0);
    cairo_rectangle (cr, lx, PAD_T / 2 - 2, 14, 4);
    cairo_fill (cr);
    gdk_cairo_set_source_rgba (cr, fg);
    text (cr, pl, lx + 18, PAD_T / 2, 0.0, val_label);
  }
}

void
cs_training_chart_draw (const cs_run *run, int onset, int weight_onset, cairo_t *cr,
                        PangoLayout *pl, const GdkRGBA *fg, int width, int height)
{
  draw_panel (run, onset, weight_onset, cr, pl, fg, 0, width, height);
  draw_panel (run, onset, weight_onset, cr, pl, fg, 1, width, height);
}

static gboolean
has_curves (CsTrainingChart *self)
{
  return self->set != NULL && cs_model_set_get_run (self->set) != NULL
         && cs_model_set_get_run (self->set)->n_epochs > 0;
}

static int
epoch_at (CsTrainingChart *self, double x, int width)
{
  Plot p;
  int n = cs_model_set_get_run (self->set)->n_epochs;
  int which = x >= width / 2.0 ? 1 : 0;
  double f;

  plot_rect (which, width, 100, &p);
  f = n > 1 ? (x - p.x0) / p.w * (n - 1) : 0;
  return CLAMP ((int) lround (f), 0, n - 1);
}

/* The signal onsets: a thin dotted line in each panel, the signal's name along the loss panel's
 * top, stacked so that onsets at the same epoch stay readable. */
static void
draw_marks (CsTrainingChart *self, cairo_t *cr, PangoLayout *pl, int w, int h, int n_epochs)
{
  for (int which = 0; which < 2; which++)
    {
      Plot p;
      plot_rect (which, w, h, &p);
      p.n = n_epochs;
      for (int m = 0; m < self->n_marks; m++)
        {
          const CsTrainingMark *k = &self->marks[m];
          double x;
          if (k->index < 0 || k->index >= n_epochs)
            continue;
          x = px (&p, k->index);
          cairo_set_source_rgba (cr, k->rgb[0], k->rgb[1], k->rgb[2], 0.95);
          cairo_set_line_width (cr, 1.5);
          cairo_set_dash (cr, (double[]) { 2, 2 }, 2, 0);
          cairo_move_to (cr, x, p.y0);
          cairo_line_to (cr, x, p.y0 + p.h);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          /* Left of a mark in the panel's last quarter, so that the name stays inside it. */
          if (which == 0 && k->label != NULL)
            {
              gboolean right = x > p.x0 + 0.75 * p.w;
              text (cr, pl, right ? x - 3 : x + 3, p.y0 + p.h - 10 - 14 * m, right ? 1.0 : 0.0, k->label);
            }
        }
    }
}

void
cs_training_chart_set_marks (CsTrainingChart *self, const CsTrainingMark *marks, int n)
{
  for (int m = 0; m < self->n_marks; m++)
    g_clear_pointer (&self->marks[m].label, g_free);
  self->n_marks = MIN (n, CS_TRAINING_MAX_MARKS);
  for (int m = 0; m < self->n_marks; m++)
    {
      self->marks[m] = marks[m];
      self->marks[m].label = g_strdup (marks[m].label);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
cs_training_chart_get_n_marks (CsTrainingChart *self)
{
  return self->n_marks;
}

static void
cs_training_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsTrainingChart *self = CS_TRAINING_CHART (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  const cs_run *run;
  GdkRGBA fg;
  cairo_t *cr;
  PangoLayout *pl;
  int epoch;

  if (!has_curves (self) || w < 40 || h < 40)
    return;
  run = cs_model_set_get_run (self->set);
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);

  if (self->cache == NULL || self->cache_w != w || self->cache_h != h)
    {
      GtkSnapshot *s = gtk_snapshot_new ();
      g_clear_pointer (&self->cache, gsk_render_node_unref);
      cr = gtk_snapshot_append_cairo (s, &GRAPHENE_RECT_INIT (0, 0, w, h));
      pl = gtk_widget_create_pango_layout (widget, NULL);
      cs_training_chart_draw (run, self->onset, self->weight_onset, cr, pl, &fg, w, h);
      g_object_unref (pl);
      cairo_destroy (cr);
      self->cache = gtk_snapshot_free_to_node (s);
      self->cache_w = w;
      self->cache_h = h;
    }
  if (self->cache != NULL)
    gtk_snapshot_append_node (snapshot, self->cache);

  /* The current epoch, and the read-out under the pointer. */
  epoch = cs_session_get_epoch (self->session);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  pl = gtk_widget_create_pango_layout (widget, NULL);
  for (int which = 0; which < 2; which++)
    {
      Plot p;
      plot_rect (which, w, h, &p);
      p.n = run->n_epochs;
      if (epoch >= 0 && epoch < p.n)
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.55);
          cairo_set_line_width (cr, 2);
          cairo_move_to (cr, px (&p, epoch), p.y0);
          cairo_line_to (cr, px (&p, epoch), p.y0 + p.h);
          cairo_stroke (cr);
        }
    }
  draw_marks (self, cr, pl, w, h, run->n_epochs);
  if (self->hover_x >= 0)
    {
      int i = epoch_at (self, self->hover_x, w);
      const cs_run_epoch *e = &run->epochs[i];
      g_autofree char *s = g_strdup_printf (_("epoch %d\nloss %.3f / %.3f\naccuracy %.1f%% / %.1f%%"),
                                            e->epoch, e->train_loss, e->val_loss,
                                            100 * e->train_accuracy, 100 * e->val_accuracy);
      int tw, th;
      double x, y;
      pango_layout_set_text (pl, s, -1);
      pango_layout_get_pixel_size (pl, &tw, &th);
      x = MIN (self->hover_x + 12, w - tw - 8);
      y = MIN (MAX (self->hover_y - th - 8, 2), h - th - 8);
      cairo_set_source_rgba (cr, 0.1, 0.1, 0.12, 0.85);
      cairo_rectangle (cr, x - 4, y - 3, tw + 8, th + 6);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, pl);
    }
  g_object_unref (pl);
  cairo_destroy (cr);
}

static void
invalidate (CsTrainingChart *self)
{
  g_clear_pointer (&self->cache, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsTrainingChart *self)
{
  CsModelSet *set = cs_session_get_model_set (session);
  const cs_run *run = NULL;

  g_clear_pointer (&self->set, cs_model_set_unref);
  self->set = set != NULL ? cs_model_set_ref (set) : NULL;
  self->onset = -1;
  self->weight_onset = -1;
  if (has_curves (self))
    {
      int n;
      g_autofree double *train = NULL, *val = NULL;
      run = cs_model_set_get_run (self->set);
      n = run->n_epochs;
      train = g_new (double, n);
      val = g_new (double, n);
      for (int i = 0; i < n; i++)
        {
          train[i] = run->epochs[i].train_loss;
          val[i] = run->epochs[i].val_loss;
        }
      self->onset = cs_training_onset_by_validation (train, val, n);
    }
  {
    /* Screen readers get what the picture says: the span, the best epoch, the onset. */
    g_autofree char *desc = NULL;
    if (!has_curves (self))
      desc = g_strdup (_("No training run open"));
    else if (self->onset >= 0)
      desc = g_strdup_printf (_("Training and validation loss and accuracy over %d epochs; validation loss is lowest at epoch %d and overfitting starts there"),
                              run->n_epochs, run->epochs[self->onset].epoch);
    else
      desc = g_strdup_printf (_("Training and validation loss and accuracy over %d epochs; no overfitting detected"),
                              run->n_epochs);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Training curves"), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc, -1);
  }
  invalidate (self);
}

static void
epoch_changed_cb (CsSession *session, GParamSpec *pspec, CsTrainingChart *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));  /* the cache stays: only the cursor moves */
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, CsTrainingChart *self)
{
  self->hover_x = x;
  self->hover_y = y;
  if (has_curves (self))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *motion, CsTrainingChart *self)
{
  self->hover_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
click_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsTrainingChart *self)
{
  if (has_curves (self) && self->session != NULL)
    cs_session_set_epoch (self->session, epoch_at (self, x, gtk_widget_get_width (GTK_WIDGET (self))));
}

void
cs_training_chart_set_session (CsTrainingChart *self, CsSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::epoch", G_CALLBACK (epoch_changed_cb), self, 0);
      model_set_changed_cb (session, NULL, self);
    }
}

int
cs_training_chart_get_onset (CsTrainingChart *self)
{
  return self->onset;
}

void
cs_training_chart_set_weight_onset (CsTrainingChart *self, int index)
{
  if (self->weight_onset == index)
    return;
  self->weight_onset = index;
  invalidate (self);
}

int
cs_training_chart_get_weight_onset (CsTrainingChart *self)
{
  return self->weight_onset;
}

static void
cs_training_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 300 : 110;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 700 : 180;
}

static void
cs_training_chart_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (cs_training_chart_parent_class)->css_changed (widget, change);
  invalidate (CS_TRAINING_CHART (widget));  /* colours may have changed (dark style) */
}

static void
cs_training_chart_dispose (GObject *object)
{
  CsTrainingChart *self = CS_TRAINING_CHART (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->cache, gsk_render_node_unref);
  cs_training_chart_set_marks (self, NULL, 0);
  G_OBJECT_CLASS (cs_training_chart_parent_class)->dispose (object);
}

static void
cs_training_chart_class_init (CsTrainingChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_training_chart_dispose;
  widget_class->snapshot = cs_training_chart_snapshot;
  widget_class->measure = cs_training_chart_measure;
  widget_class->css_changed = cs_training_chart_css_changed;
  gtk_widget_class_set_css_name (widget_class, "cstrainingchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_training_chart_init (CsTrainingChart *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->onset = -1;
  self->weight_onset = -1;
  self->hover_x = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (click, "pressed", G_CALLBACK (click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
cs_training_chart_new (CsSession *session)
{
  CsTrainingChart *self = g_object_new (CS_TYPE_TRAINING_CHART, NULL);

  cs_training_chart_set_session (self, session);
  return GTK_WIDGET (self);
}

const cs_run *
cs_training_chart_get_run (CsTrainingChart *self)
{
  return has_curves (self) ? cs_model_set_get_run (self->set) : NULL;
}
