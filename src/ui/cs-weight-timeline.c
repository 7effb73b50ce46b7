/* CsWeightTimeline: the run's weight statistics as a layers x epochs heat map. They come from
 * the core's run analysis on the worker (the validated analysis.json cache, computed and cached
 * when stale: the same path as the unit inspector and the data export); epochs whose checkpoint
 * could not be read are drawn as hatched holes that say why. */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "cs-colormap.h"
#include "cs-weight-timeline.h"

#include "analysis/run_analysis.h"

#define LABEL_W 96.0
#define ROW_H 18.0

typedef struct
{
  CsModelSet *set;             /* holds the run that the analysis borrows */
  cs_run_analysis *analysis;
  int *nodes;                  /* graph node of each layer */
} Stats;

struct _CsWeightTimeline
{
  GtkWidget parent_instance;
  CsSession *session;
  CsWeightStat stat;
  Stats *stats;
  char *error;                 /* why there are no statistics, or NULL */
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
  cs_run_analysis_free (s->analysis);
  g_clear_pointer (&s->set, cs_model_set_unref);
  g_free (s->nodes);
  g_free (s);
}

static int
n_layers (const Stats *s)
{
  return s != NULL ? s->analysis->stats->n_layers : 0;
}

static int
n_epochs (const Stats *s)
{
  return s != NULL ? s->analysis->stats->n_epochs : 0;
}

static double
value (const Stats *s, CsWeightStat stat, int layer, int epoch)
{
  const cs_layer_series *ls = &s->analysis->stats->layers[layer];

  switch (stat)
    {
    case CS_WEIGHT_STAT_RELATIVE_CHANGE: return ls->relative_change[epoch];
    case CS_WEIGHT_STAT_DISTANCE_FROM_INIT: return ls->distance_from_init[epoch];
    case CS_WEIGHT_STAT_ALPHA: return ls->alpha[epoch];
    default: return NAN;
    }
}

static gpointer
stats_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsModelSet *set = data;
  const cs_graph *g = cs_model_set_get_graph (set);
  cs_error err = { 0 };
  cs_run_analysis *a = cs_run_analysis_load (cs_model_set_get_run (set),
                                             cs_worker_job_get_progress (wjob), &err);
  Stats *s;

  if (a == NULL)
    {
      if (err.code == CS_ERR_CANCELLED)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      else
        cs_set_core_error (error, &err);
      return NULL;
    }
  s = g_new0 (Stats, 1);
  s->set = cs_model_set_ref (set);
  s->analysis = a;
  s->nodes = g_new0 (int, MAX (a->stats->n_layers, 1));
  for (int l = 0; l < a->stats->n_layers; l++)
    s->nodes[l] = cs_graph_find (g, a->stats->layers[l].name);
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
update_description (CsWeightTimeline *self)
{
  const Stats *s = self->stats;
  g_autofree char *desc = NULL;

  if (s == NULL)
    desc = g_strdup (_("No weight statistics"));
  else if (s->analysis->stats->n_unavailable > 0)
    desc = g_strdup_printf (_("Heat map of %d layers over %d epochs, %d of them unavailable; click a cell to select that layer and epoch"),
                            n_layers (s), n_epochs (s), s->analysis->stats->n_unavailable);
  else
    desc = g_strdup_printf (_("Heat map of %d layers over %d epochs; click a cell to select that layer and epoch"),
                            n_layers (s), n_epochs (s));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Weight statistics per layer and epoch"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc, -1);
}

static void
stats_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsWeightTimeline) self = user_data;
  g_autoptr (GError) error = NULL;
  Stats *s = cs_worker_finish (CS_WORKER (source), result, &error);

  if (s == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  stats_free (self->stats);
  self->stats = s;
  g_clear_pointer (&self->error, g_free);
  if (s == NULL)
    self->error = g_strdup (error->message);
  update_description (self);
  set_loading (self, FALSE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsWeightTimeline *self)
{
  CsModelSet *set = cs_session_get_model_set (session);

  g_clear_pointer (&self->stats, stats_free);
  g_clear_pointer (&self->error, g_free);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    {
      set_loading (self, FALSE);
      return;
    }
  set_loading (self, TRUE);
  cs_worker_run (cs_session_get_worker (session), self->channel, TRUE, stats_job_run,
                 cs_model_set_ref (set), (GDestroyNotify) cs_model_set_unref, stats_free,
                 stats_done, g_object_ref (self));
}

static void
redraw_cb (CsSession *session, GParamSpec *pspec, CsWeightTimeline *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The colour scale of a statistic over every available cell. */
typedef struct
{
  double lo, hi;
  gboolean use_log;            /* relative change spans decades: log10 of the values */
} Scale;

static void
scale_of (const Stats *s, CsWeightStat stat, Scale *sc)
{
  sc->lo = INFINITY;
  sc->hi = -INFINITY;
  for (int l = 0; l < n_layers (s); l++)
    for (int e = 0; e < n_epochs (s); e++)
      {
        double v = value (s, stat, l, e);
        if (isfinite (v))
          sc->lo = MIN (sc->lo, v), sc->hi = MAX (sc->hi, v);
      }
  if (!(sc->hi > sc->lo))
    sc->hi = sc->lo + 1;
  sc->use_log = stat == CS_WEIGHT_STAT_RELATIVE_CHANGE && sc->lo > 0;
  if (sc->use_log)
    sc->lo = log10 (sc->lo), sc->hi = log10 (sc->hi);
}

static double
column_width (const Stats *s, int w)
{
  return (w - LABEL_W - 4) / MAX (n_epochs (s), 1);
}

static gboolean
cell_at (CsWeightTimeline *self, double x, double y, int *layer, int *epoch)
{
  const Stats *s = self->stats;
  double cw;

  if (s == NULL || n_epochs (s) == 0 || x < LABEL_W)
    return FALSE;
  cw = column_width (s, gtk_widget_get_width (GTK_WIDGET (self)));
  *epoch = (int) ((x - LABEL_W) / cw);
  *layer = (int) ((y - 2) / ROW_H);
  return *epoch >= 0 && *epoch < n_epochs (s) && *layer >= 0 && *layer < n_layers (s);
}

gboolean
cs_weight_timeline_column_center (CsWeightTimeline *self, int epoch, double *x)
{
  const Stats *s = self->stats;
  int w = gtk_widget_get_width (GTK_WIDGET (self));

  if (n_layers (s) == 0 || epoch < 0 || epoch >= n_epochs (s) || w <= LABEL_W)
    return FALSE;
  *x = LABEL_W + (epoch + 0.5) * column_width (s, w);
  return TRUE;
}

#define FIGURE_TITLE_H 22.0
#define FIGURE_AXIS_H 20.0
#define FIGURE_BAR_H 36.0

static void
show_text (cairo_t *cr, PangoLayout *pl, double x, double y, const char *text)
{
  pango_layout_set_text (pl, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, pl);
}

static void
draw_message (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg)
{
  g_autofree char *text = NULL;

  if (self->loading)
    text = g_strdup (_("Computing weight statistics…"));
  else if (self->error != NULL)
    text = g_strdup_printf (_("No weight statistics: %s"), self->error);
  else
    text = g_strdup (_("No weight statistics (open a training run)"));
  gdk_cairo_set_source_rgba (cr, fg);
  show_text (cr, pl, 8, 4, text);
}

/* An unavailable epoch's column: diagonal hatching over the rows. */
static void
draw_hole (cairo_t *cr, const GdkRGBA *fg, double x, double y, double w, double h)
{
  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, 0.75, 0.11, 0.16, 0.12);
  cairo_paint (cr);
  cairo_set_source_rgba (cr, 0.75, 0.11, 0.16, 0.7);
  cairo_set_line_width (cr, 1.5);
  for (double d = -h; d < w; d += 6)
    {
      cairo_move_to (cr, x + d, y + h);
      cairo_line_to (cr, x + d + h, y);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Layer names and cells; the selected layer outlined. */
static void
draw_rows (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
           const Scale *sc, double y0, double cw, int selected, gboolean figure)
{
  const Stats *s = self->stats;

  pango_layout_set_width (pl, (int) ((LABEL_W - 8) * PANGO_SCALE));
  pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);
  for (int l = 0; l < n_layers (s); l++)
    {
      double y = y0 + 2 + l * ROW_H;
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue,
                             s->nodes[l] == selected || figure ? 1.0 : 0.75);
      show_text (cr, pl, 4, y + 2, s->analysis->stats->layers[l].name);
      for (int e = 0; e < n_epochs (s); e++)
        {
          double v = value (s, self->stat, l, e);
          guint8 rgb[3];

          if (cs_run_analysis_checkpoint_error (s->analysis, e) != NULL)
            continue;  /* the hole is drawn over the whole column */
          if (!isfinite (v))
            cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.06);
          else
            {
              if (sc->use_log)
                v = log10 (MAX (v, 1e-12));
              cs_colormap_lookup (CS_COLORMAP_VIRIDIS, (float) ((v - sc->lo) / (sc->hi - sc->lo)), rgb);
              cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
            }
          cairo_rectangle (cr, LABEL_W + e * cw, y, MAX (cw - 1, 1), ROW_H - 1);
          cairo_fill (cr);
        }
      if (s->nodes[l] == selected)
        {
          cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
          cairo_set_line_width (cr, 2);
          cairo_rectangle (cr, LABEL_W - 1, y - 1, n_epochs (s) * cw + 1, ROW_H + 1);
          cairo_stroke (cr);
        }
    }
  pango_layout_set_width (pl, -1);
  for (int e = 0; e < n_epochs (s); e++)
    if (cs_run_analysis_checkpoint_error (s->analysis, e) != NULL)
      draw_hole (cr, fg, LABEL_W + e * cw, y0 + 2, MAX (cw - 1, 1), n_layers (s) * ROW_H - 1);
}

/* The figure's title, epoch numbers under their columns and colour bar with its end values. */
static void
draw_figure_frame (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
                   const Scale *sc, int w, double cw)
{
  const Stats *s = self->stats;
  CsModelSet *set = s->set;
  g_autofree char *title = g_strdup_printf ("%s%s", cs_weight_stat_title (self->stat),
                                            sc->use_log ? _(" (log scale)") : "");
  double ya = FIGURE_TITLE_H + 4 + n_layers (s) * ROW_H, yb = ya + FIGURE_AXIS_H;
  double bw = MIN (240.0, w - LABEL_W - 8);
  int step = MAX (1, n_epochs (s) / 10);
  char buf[32];

  gdk_cairo_set_source_rgba (cr, fg);
  pango_layout_set_width (pl, -1);
  show_text (cr, pl, 4, 3, title);
  for (int e = 0; e < n_epochs (s); e += step)
    {
      int tw, th;
      g_snprintf (buf, sizeof buf, "%d", cs_model_set_get_epoch_number (set, e));
      pango_layout_set_text (pl, buf, -1);
      pango_layout_get_pixel_size (pl, &tw, &th);
      show_text (cr, pl, LABEL_W + (e + 0.5) * cw - tw / 2.0, ya + 1, buf);
    }
  show_text (cr, pl, 4, ya + 1, _("epoch"));

  /* The colour bar as vector strips. */
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
      double v = end == 0 ? sc->lo : sc->hi;
      int tw, th;
      g_snprintf (buf, sizeof buf, "%.3g", sc->use_log ? pow (10, v) : v);
      pango_layout_set_text (pl, buf, -1);
      pango_layout_get_pixel_size (pl, &tw, &th);
      show_text (cr, pl, LABEL_W + (end == 0 ? 0 : bw - tw), yb + 14, buf);
    }
}

/* What the cell under the pointer holds; for a hole, why it is one. */
static void
draw_readout (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, int w, int h)
{
  const Stats *s = self->stats;
  g_autofree char *t = NULL;
  const char *why;
  int hl, he, tw, th;
  double x, y;

  if (self->hover_x < 0 || !cell_at (self, self->hover_x, self->hover_y, &hl, &he))
    return;
  why = cs_run_analysis_checkpoint_error (s->analysis, he);
  if (why != NULL)
    t = g_strdup_printf (_("epoch %d · checkpoint unavailable: %s"),
                         cs_model_set_get_epoch_number (s->set, he), why);
  else
    t = g_strdup_printf ("%s · epoch %d · %.4g", s->analysis->stats->layers[hl].name,
                         cs_model_set_get_epoch_number (s->set, he), value (s, self->stat, hl, he));
  pango_layout_set_width (pl, (int) (MAX (w - 12, 40) * PANGO_SCALE));
  pango_layout_set_wrap (pl, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_text (pl, t, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  x = MAX (MIN (self->hover_x + 10, w - tw - 6), 4);
  y = MAX (MIN (self->hover_y + 10, h - th - 4), 2);
  cairo_set_source_rgba (cr, 0.1, 0.1, 0.12, 0.85);
  cairo_rectangle (cr, x - 3, y - 2, tw + 6, th + 4);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, pl);
}

/* The heat map. figure: what export draws — a title, epoch numbers under the cells and a
 * colour bar with the value range, without the selection, the cursor and the read-out. */
static void
draw (CsWeightTimeline *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int w, int h,
      gboolean figure)
{
  const Stats *s = self->stats;
  int epoch = self->session != NULL && !figure ? cs_session_get_epoch (self->session) : -1;
  int layer = self->session != NULL && !figure ? cs_session_get_layer (self->session) : -1;
  double cw;
  Scale sc;

  if (n_layers (s) == 0)
    {
      draw_message (self, cr, pl, fg);
      return;
    }
  scale_of (s, self->stat, &sc);
  cw = column_width (s, w);
  draw_rows (self, cr, pl, fg, &sc, figure ? FIGURE_TITLE_H : 0, cw, layer, figure);
  if (figure)
    {
      draw_figure_frame (self, cr, pl, fg, &sc, w, cw);
      return;
    }
  if (epoch >= 0 && epoch < n_epochs (s))
    {
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.9);
      cairo_set_line_width (cr, 2);
      cairo_rectangle (cr, LABEL_W + epoch * cw, 1, cw - 1, n_layers (s) * ROW_H);
      cairo_stroke (cr);
    }
  draw_readout (self, cr, pl, w, h);
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
  return (int) ceil (FIGURE_TITLE_H + 4 + n_layers (self->stats) * ROW_H + FIGURE_AXIS_H
                     + FIGURE_BAR_H);
}

gboolean
cs_weight_timeline_draw_figure (CsWeightTimeline *self, cairo_t *cr, int width, int height)
{
  static const GdkRGBA black = { 0, 0, 0, 1 };
  PangoLayout *pl;

  if (n_layers (self->stats) == 0)
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
    *minimum = *natural = 4 + (int) (ROW_H * MAX (n_layers (self->stats), 1));
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
  return n_layers (self->stats);
}

const cs_run_analysis *
cs_weight_timeline_get_analysis (CsWeightTimeline *self)
{
  return self->stats != NULL ? self->stats->analysis : NULL;
}

const char *
cs_weight_timeline_get_error (CsWeightTimeline *self)
{
  return self->error;
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
  g_clear_pointer (&self->error, g_free);
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
