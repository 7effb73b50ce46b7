/* CsWeightTimeline: statistics computed on the worker over every checkpoint (by the core's
 * analysis module when built, else norms computed here), drawn as a heat map. */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "cs-colormap.h"
#include "cs-weight-timeline.h"

#include "analysis/run_stats.h"

#define LABEL_W 96.0
#define ROW_H 18.0

typedef struct
{
  int n_layers, n_epochs;
  char **names;                /* n_layers */
  int *nodes;                  /* graph node ids */
  double *values[CS_WEIGHT_STAT_COUNT]; /* [layer * n_epochs + epoch] */
} Stats;

struct _CsWeightTimeline
{
  GtkWidget parent_instance;
  CsSession *session;
  CsWeightStat stat;
  Stats *stats;
  gboolean loading;
  char channel[32];
  double hover_x, hover_y;
};

enum { PROP_0, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsWeightTimeline, cs_weight_timeline, GTK_TYPE_WIDGET)

const char *
cs_weight_stat_title (CsWeightStat stat)
{
  switch (stat)
    {
    case CS_WEIGHT_STAT_RELATIVE_CHANGE: return _("Relative change per epoch");
    case CS_WEIGHT_STAT_DISTANCE_FROM_INIT: return _("Distance from initialisation");
    case CS_WEIGHT_STAT_ALPHA: return _("Power-law α of the spectrum");
    default: return "?";
    }
}

static void
stats_free (gpointer data)
{
  Stats *s = data;

  if (s == NULL)
    return;
  g_strfreev (s->names);
  g_free (s->nodes);
  for (int i = 0; i < CS_WEIGHT_STAT_COUNT; i++)
    g_free (s->values[i]);
  g_free (s);
}

typedef struct
{
  CsModelSet *set;
} StatsJob;

static void
stats_job_free (gpointer data)
{
  StatsJob *job = data;

  cs_model_set_unref (job->set);
  g_free (job);
}

static gpointer
stats_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  StatsJob *job = data;
  const cs_run *run = cs_model_set_get_run (job->set);
  const cs_graph *g = cs_model_set_get_graph (job->set);
  cs_error err = { 0 };
  cs_run_stats *rs = cs_run_stats_compute (run, cs_worker_job_get_progress (wjob), &err);
  Stats *s;

  if (rs == NULL)
    {
      if (err.code == CS_ERR_CANCELLED)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      else
        cs_set_core_error (error, &err);
      return NULL;
    }
  s = g_new0 (Stats, 1);
  s->n_layers = rs->n_layers;
  s->n_epochs = rs->n_epochs;
  s->names = g_new0 (char *, s->n_layers + 1);
  s->nodes = g_new0 (int, s->n_layers);
  for (int i = 0; i < CS_WEIGHT_STAT_COUNT; i++)
    s->values[i] = g_new (double, (gsize) s->n_layers * s->n_epochs);
  for (int l = 0; l < rs->n_layers; l++)
    {
      const cs_layer_series *ls = &rs->layers[l];
      s->names[l] = g_strdup (ls->name);
      s->nodes[l] = cs_graph_find (g, ls->name);
      for (int e = 0; e < s->n_epochs; e++)
        {
          gsize i = (gsize) l * s->n_epochs + e;
          s->values[CS_WEIGHT_STAT_RELATIVE_CHANGE][i] = ls->relative_change[e];
          s->values[CS_WEIGHT_STAT_DISTANCE_FROM_INIT][i] = ls->distance_from_init[e];
          s->values[CS_WEIGHT_STAT_ALPHA][i] = ls->alpha[e];
        }
    }
  cs_run_stats_free (rs);
  return s;
}

static void
set_loading (CsWeightTimeline *self, gboolean loading)
{
  if (self->loading != loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
}

static void
stats_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsWeightTimeline) self = user_data;
  g_autoptr (GError) error = NULL;
  Stats *s = cs_worker_finish (CS_WORKER (source), result, &error);

  if (s == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (s == NULL)
    g_debug ("Weight statistics: %s", error->message);
  stats_free (self->stats);
  self->stats = s;
  set_loading (self, FALSE);
  {
    g_autofree char *desc = s != NULL
      ? g_strdup_printf (_("Heat map of %d layers over %d epochs; click a cell to select that layer and epoch"),
                         s->n_layers, s->n_epochs)
      : g_strdup (_("No weight statistics"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Weight statistics per layer and epoch"),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc, -1);
  }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsWeightTimeline *self)
{
  CsModelSet *set = cs_session_get_model_set (session);
  StatsJob *job;

  g_clear_pointer (&self->stats, stats_free);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    return;
  job = g_new0 (StatsJob, 1);
  job->set = cs_model_set_ref (set);
  set_loading (self, TRUE);
  cs_worker_run (cs_session_get_worker (session), self->channel, TRUE, stats_job_run, job,
                 stats_job_free, stats_free, stats_done, g_object_ref (self));
}

static void
redraw_cb (CsSession *session, GParamSpec *pspec, CsWeightTimeline *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
range_of (const Stats *s, CsWeightStat stat, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (gsize i = 0; i < (gsize) s->n_layers * s->n_epochs; i++)
    if (isfinite (s->values[stat][i]))
      {
        *lo = MIN (*lo, s->values[stat][i]);
        *hi = MAX (*hi, s->values[stat][i]);
      }
  if (!(*hi > *lo))
    *hi = *lo + 1;
}

static gboolean
cell_at (CsWeightTimeline *self, double x, double y, int *layer, int *epoch)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  double cw;

  if (self->stats == NULL || self->stats->n_epochs == 0 || x < LABEL_W)
    return FALSE;
  cw = (w - LABEL_W - 4) / self->stats->n_epochs;
  *epoch = (int) ((x - LABEL_W) / cw);
  *layer = (int) ((y - 2) / ROW_H);
  return *epoch >= 0 && *epoch < self->stats->n_epochs && *layer >= 0
         && *layer < self->stats->n_layers;
}

#define FIGURE_TITLE_H 22.0
#define FIGURE_AXIS_H 20.0
#define FIGURE_BAR_H 36.0

/* The heat map. figure: what export draws — a title, epoch numbers under the cells and a
 * colour bar with the value range, without the selection, the cursor and the read-out. */
static void
draw (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int w, int h,
      gboolean figure)
{
  const Stats *s = self->stats;
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  int epoch = self->session != NULL && !figure ? cs_session_get_epoch (self->session) : -1;
  int layer = self->session != NULL && !figure ? cs_session_get_layer (self->session) : -1;
  double lo, hi, cw, y0 = figure ? FIGURE_TITLE_H : 0;
  gboolean use_log;

  if (s == NULL || s->n_layers == 0)
    {
      gdk_cairo_set_source_rgba (cr, fg);
      pango_layout_set_text (pl, self->loading ? _("Computing weight statistics…")
                                               : _("No weight statistics (open a training run)"), -1);
      cairo_move_to (cr, 8, 4);
      pango_cairo_show_layout (cr, pl);
      return;
    }
  range_of (s, self->stat, &lo, &hi);
  /* Relative change spans decades between the first epochs and the last: log scale. */
  use_log = self->stat == CS_WEIGHT_STAT_RELATIVE_CHANGE && lo > 0;
  if (use_log)
    lo = log10 (lo), hi = log10 (hi);
  cw = (w - LABEL_W - 4) / s->n_epochs;
  if (figure)
    {
      g_autofree char *title = g_strdup_printf ("%s%s", cs_weight_stat_title (self->stat),
                                                use_log ? _(" (log scale)") : "");
      gdk_cairo_set_source_rgba (cr, fg);
      pango_layout_set_width (pl, -1);
      pango_layout_set_text (pl, title, -1);
      cairo_move_to (cr, 4, 3);
      pango_cairo_show_layout (cr, pl);
    }
  for (int l = 0; l < s->n_layers; l++)
    {
      double y = y0 + 2 + l * ROW_H;
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, s->nodes[l] == layer || figure ? 1.0 : 0.75);
      pango_layout_set_width (pl, (int) ((LABEL_W - 8) * PANGO_SCALE));
      pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);
      pango_layout_set_text (pl, s->names[l], -1);
      cairo_move_to (cr, 4, y + 2);
      pango_cairo_show_layout (cr, pl);
      for (int e = 0; e < s->n_epochs; e++)
        {
          double v = s->values[self->stat][(gsize) l * s->n_epochs + e];
          guint8 rgb[3];
          if (!isfinite (v))
            {
              cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.06);
            }
          else
            {
              if (use_log)
                v = log10 (MAX (v, 1e-12));
              cs_colormap_lookup (CS_COLORMAP_VIRIDIS, (float) ((v - lo) / (hi - lo)), rgb);
              cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
            }
          cairo_rectangle (cr, LABEL_W + e * cw, y, MAX (cw - 1, 1), ROW_H - 1);
          cairo_fill (cr);
        }
      if (s->nodes[l] == layer)
        {
          cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
          cairo_set_line_width (cr, 2);
          cairo_rectangle (cr, LABEL_W - 1, y - 1, s->n_epochs * cw + 1, ROW_H + 1);
          cairo_stroke (cr);
        }
    }
  if (epoch >= 0 && epoch < s->n_epochs)
    {
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.9);
      cairo_set_line_width (cr, 2);
      cairo_rectangle (cr, LABEL_W + epoch * cw, 1, cw - 1, s->n_layers * ROW_H);
      cairo_stroke (cr);
    }
  if (figure)
    {
      double ya = y0 + 4 + s->n_layers * ROW_H, yb = ya + FIGURE_AXIS_H;
      double bw = MIN (240.0, w - LABEL_W - 8);
      int step = MAX (1, s->n_epochs / 10);
      char buf[32];

      /* Epoch numbers under their columns. */
      gdk_cairo_set_source_rgba (cr, fg);
      pango_layout_set_width (pl, -1);
      for (int e = 0; e < s->n_epochs; e += step)
        {
          int tw, th;
          g_snprintf (buf, sizeof buf, "%d", set != NULL ? cs_model_set_get_epoch_number (set, e) : e);
          pango_layout_set_text (pl, buf, -1);
          pango_layout_get_pixel_size (pl, &tw, &th);
          cairo_move_to (cr, LABEL_W + (e + 0.5) * cw - tw / 2.0, ya + 1);
          pango_cairo_show_layout (cr, pl);
        }
      pango_layout_set_text (pl, _("epoch"), -1);
      cairo_move_to (cr, 4, ya + 1);
      pango_cairo_show_layout (cr, pl);

      /* The colour bar, as vector strips, with its end values. */
      for (int i = 0; i < 64; i++)
        {
          guint8 rgb[3];
          cs_colormap_lookup (CS_COLORMAP_VIRIDIS, (i + 0.5f) / 64.0f, rgb);
          cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
          cairo_rectangle (cr, LABEL_W + bw * i / 64.0, yb + 2, bw / 64.0 + 0.5, 10);
          cairo_fill (cr);
        }
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
      cairo_set_line_width (cr, 0.5);
      cairo_rectangle (cr, LABEL_W, yb + 2, bw, 10);
      cairo_stroke (cr);
      gdk_cairo_set_source_rgba (cr, fg);
      for (int end = 0; end < 2; end++)
        {
          double v = end == 0 ? lo : hi;
          int tw, th;
          g_snprintf (buf, sizeof buf, "%.3g", use_log ? pow (10, v) : v);
          pango_layout_set_text (pl, buf, -1);
          pango_layout_get_pixel_size (pl, &tw, &th);
          cairo_move_to (cr, LABEL_W + (end == 0 ? 0 : bw - tw), yb + 14);
          pango_cairo_show_layout (cr, pl);
        }
      return;
    }
  if (self->hover_x >= 0)
    {
      int hl, he;
      if (cell_at (self, self->hover_x, self->hover_y, &hl, &he))
        {
          double v = s->values[self->stat][(gsize) hl * s->n_epochs + he];
          g_autofree char *t = g_strdup_printf ("%s · epoch %d · %.4g", s->names[hl],
                                                cs_model_set_get_epoch_number (set, he), v);
          int tw, th;
          pango_layout_set_width (pl, -1);
          pango_layout_set_text (pl, t, -1);
          pango_layout_get_pixel_size (pl, &tw, &th);
          {
            double x = MIN (self->hover_x + 10, w - tw - 6), y = MIN (self->hover_y + 10, h - th - 4);
            cairo_set_source_rgba (cr, 0.1, 0.1, 0.12, 0.85);
            cairo_rectangle (cr, x - 3, y - 2, tw + 6, th + 4);
            cairo_fill (cr);
            cairo_set_source_rgb (cr, 1, 1, 1);
            cairo_move_to (cr, x, y);
            pango_cairo_show_layout (cr, pl);
          }
        }
    }
}

static void
set_small_font (PangoLayout *pl)
{
  PangoFontDescription *font = pango_font_description_from_string ("Sans 8");

  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
}

static void
cs_weight_timeline_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsWeightTimeline *self = CS_WEIGHT_TIMELINE (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkRGBA fg;
  cairo_t *cr;
  PangoLayout *pl;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  pl = gtk_widget_create_pango_layout (widget, NULL);
  set_small_font (pl);
  draw (self, cr, pl, &fg, w, h, FALSE);
  g_object_unref (pl);
  cairo_destroy (cr);
}

int
cs_weight_timeline_get_figure_height (CsWeightTimeline *self)
{
  int n = self->stats != NULL ? self->stats->n_layers : 0;

  return (int) ceil (FIGURE_TITLE_H + 4 + n * ROW_H + FIGURE_AXIS_H + FIGURE_BAR_H);
}

gboolean
cs_weight_timeline_draw_figure (CsWeightTimeline *self, cairo_t *cr, int width, int height)
{
  static const GdkRGBA black = { 0, 0, 0, 1 };
  PangoLayout *pl;

  if (self->stats == NULL || self->stats->n_layers == 0)
    return FALSE;
  pl = pango_cairo_create_layout (cr);
  set_small_font (pl);
  draw (self, cr, pl, &black, width, height, TRUE);
  g_object_unref (pl);
  return TRUE;
}

CsWeightStat
cs_weight_timeline_get_stat (CsWeightTimeline *self)
{
  return self->stat;
}

static void
cs_weight_timeline_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  CsWeightTimeline *self = CS_WEIGHT_TIMELINE (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 200, *natural = 600;
  else
    *minimum = *natural = 4 + (int) (ROW_H * MAX (self->stats != NULL ? self->stats->n_layers : 1, 1));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, CsWeightTimeline *self)
{
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *motion, CsWeightTimeline *self)
{
  self->hover_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
click_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsWeightTimeline *self)
{
  int l, e;

  if (self->session != NULL && cell_at (self, x, y, &l, &e))
    {
      cs_session_set_layer (self->session, self->stats->nodes[l]);
      cs_session_set_epoch (self->session, e);
    }
}

void
cs_weight_timeline_set_session (CsWeightTimeline *self, CsSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::epoch", G_CALLBACK (redraw_cb), self, 0);
      g_signal_connect_object (session, "notify::layer", G_CALLBACK (redraw_cb), self, 0);
      if (cs_session_get_model_set (session) != NULL)
        model_set_changed_cb (session, NULL, self);
    }
}

void
cs_weight_timeline_set_stat (CsWeightTimeline *self, CsWeightStat stat)
{
  if (stat < CS_WEIGHT_STAT_COUNT)
    {
      self->stat = stat;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

gboolean
cs_weight_timeline_get_loading (CsWeightTimeline *self)
{
  return self->loading;
}

int
cs_weight_timeline_get_n_layers (CsWeightTimeline *self)
{
  return self->stats != NULL ? self->stats->n_layers : 0;
}

static void
cs_weight_timeline_dispose (GObject *object)
{
  CsWeightTimeline *self = CS_WEIGHT_TIMELINE (object);

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
    }
  g_clear_object (&self->session);
  g_clear_pointer (&self->stats, stats_free);
  G_OBJECT_CLASS (cs_weight_timeline_parent_class)->dispose (object);
}

static void
cs_weight_timeline_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_LOADING: g_value_set_boolean (value, CS_WEIGHT_TIMELINE (object)->loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_weight_timeline_class_init (CsWeightTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_weight_timeline_dispose;
  object_class->get_property = cs_weight_timeline_get_property;
  widget_class->snapshot = cs_weight_timeline_snapshot;
  widget_class->measure = cs_weight_timeline_measure;
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "csweighttimeline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_weight_timeline_init (CsWeightTimeline *self)
{
  static guint counter;
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  g_snprintf (self->channel, sizeof self->channel, "weights-%u", ++counter);
  self->hover_x = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (click, "pressed", G_CALLBACK (click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
cs_weight_timeline_new (CsSession *session)
{
  CsWeightTimeline *self = g_object_new (CS_TYPE_WEIGHT_TIMELINE, NULL);

  cs_weight_timeline_set_session (self, session);
  return GTK_WIDGET (self);
}
