/* CsUnitEvolution: one grid column per epoch, filled by a low-priority job whose cells arrive
 * through an idle; images already in the actmax panel's cache are shown at once. */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "cs-unit-evolution.h"
#include "cs-unit-panel.h"

#define THUMB 40

struct _CsUnitEvolution
{
  CsUnitPanel parent_instance;
  CsSession *session;
  CsUnitActmax *actmax;
  CsModelSet *set;
  char channel[40], stats_channel[40];
  int epoch, layer, unit;

  int n_epochs;
  GtkWidget **labels, **weights, **actmax_cells;
  GtkWidget *weights_label;
  GtkWidget *sparkline;
  guint64 serial;
  CsEvolutionJob *job;         /* the running one, to drain its queue when it ends */
  gboolean wanted;             /* start once the main image is done */
  guint n_weights, n_actmax;
  cs_run_stats *stats;
  float *spark;
  int n_spark;

  GtkLabel *evolution_status;
  GtkSpinner *evolution_spinner;
  GtkGrid *evolution_grid;
};


G_DEFINE_FINAL_TYPE (CsUnitEvolution, cs_unit_evolution, CS_TYPE_UNIT_PANEL)

static void
set_loading (CsUnitEvolution *self, gboolean loading)
{
  cs_unit_panel_set_loading (CS_UNIT_PANEL (self), loading);
}

static void
update_current (CsUnitEvolution *self)
{
  for (int e = 0; e < self->n_epochs && self->labels != NULL; e++)
    {
      GtkWidget *cells[] = { self->labels[e], self->actmax_cells[e], self->weights[e] };
      for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
        if (e == self->epoch)
          gtk_widget_add_css_class (cells[i], "current");
        else
          gtk_widget_remove_css_class (cells[i], "current");
    }
  if (self->sparkline != NULL)
    gtk_widget_queue_draw (self->sparkline);
}

static void
set_actmax_cell (CsUnitEvolution *self, const CsUnitImage *image)
{
  g_autoptr (GdkTexture) t = NULL;

  if (self->actmax_cells == NULL || image->layer != self->layer || image->unit != self->unit
      || image->epoch < 0 || image->epoch >= self->n_epochs)
    return;
  if (gtk_picture_get_paintable (GTK_PICTURE (self->actmax_cells[image->epoch])) == NULL)
    self->n_actmax++;
  t = cs_unit_image_texture (image, THUMB);
  gtk_picture_set_paintable (GTK_PICTURE (self->actmax_cells[image->epoch]), GDK_PAINTABLE (t));
}

static void
update_status (CsUnitEvolution *self)
{
  g_autofree char *text = NULL;

  if (cs_unit_panel_get_loading (CS_UNIT_PANEL (self)))
    text = g_strdup_printf (_("computing epoch images %u / %d…"), self->n_actmax, self->n_epochs);
  else
    text = g_strdup_printf (ngettext ("%d epoch · click it to go there", "%d epochs · click one to go there",
                                      self->n_epochs), self->n_epochs);
  cs_unit_label_set_text (self->evolution_status, text);
  gtk_spinner_set_spinning (self->evolution_spinner, cs_unit_panel_get_loading (CS_UNIT_PANEL (self)));
}

static void
take_cells (CsUnitEvolution *self, CsEvolutionJob *job)
{
  g_autoptr (GPtrArray) cells = cs_evolution_job_take_ready (job);

  for (guint i = 0; i < cells->len; i++)
    {
      CsUnitImage *cell = g_ptr_array_index (cells, i);
      if (cell->layer < 0)
        {
          g_autoptr (GdkTexture) t = cs_unit_image_texture (cell, THUMB);
          if (cell->epoch < self->n_epochs)
            {
              gtk_picture_set_paintable (GTK_PICTURE (self->weights[cell->epoch]), GDK_PAINTABLE (t));
              gtk_widget_set_visible (self->weights_label, TRUE);
              self->n_weights++;
            }
          continue;
        }
      set_actmax_cell (self, cell);
      /* Cached like the main image: selecting that epoch shows it at once. */
      cs_unit_actmax_cache_take (self->actmax, g_steal_pointer (&cells->pdata[i]));
    }
  update_status (self);
}

static gboolean
cell_idle (gpointer data)
{
  CsEvolutionJob *job = data;
  g_autoptr (CsUnitEvolution) self = g_weak_ref_get (&job->owner);

  if (self != NULL && job->generation == self->serial)
    take_cells (self, job);
  return G_SOURCE_REMOVE;
}

static void
evolution_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint64 serial;
  g_autoptr (CsUnitEvolution) self = cs_unit_call_steal (user_data, &serial);
  g_autoptr (GError) error = NULL;
  gpointer r = cs_worker_finish (CS_WORKER (source), result, &error);

  if (serial != self->serial || (r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    return;
  /* The last cells may still sit in the queue (the idle is low priority): take them now, so
   * that the grid is complete when loading ends. */
  if (self->job != NULL)
    take_cells (self, self->job);
  g_clear_pointer (&self->job, cs_evolution_job_unref);
  set_loading (self, FALSE);
  if (r == NULL)
    {
      cs_unit_label_set_text (self->evolution_status, error->message);
      gtk_spinner_set_spinning (self->evolution_spinner, FALSE);
      return;
    }
  update_status (self);
}

/* Low priority: started after the main image is done, and only for epochs not cached. */
static void
maybe_start (CsUnitEvolution *self)
{
  g_autofree int *order = NULL;
  cs_actmax_params params;
  int n = 0;
  CsEvolutionJob *job;

  if (!self->wanted || cs_unit_actmax_get_loading (self->actmax) || self->layer < 0)
    return;
  self->wanted = FALSE;
  order = g_new (int, MAX (self->n_epochs, 1));
  for (int e = 0; e < self->n_epochs; e++)
    {
      const CsUnitImage *cached = cs_unit_actmax_lookup (self->actmax, e, self->layer, self->unit);
      if (cached != NULL)
        set_actmax_cell (self, cached);
      else
        order[n++] = e;
    }
  cs_unit_actmax_get_params (self->actmax, &params);
  job = cs_evolution_job_new (self->set, self->layer, self->unit, &params, order, n);
  job->generation = ++self->serial;
  job->on_cell = cell_idle;
  g_weak_ref_set (&job->owner, self);
  g_clear_pointer (&self->job, cs_evolution_job_unref);
  self->job = cs_evolution_job_ref (job);
  set_loading (self, TRUE);
  update_status (self);
  cs_worker_run (cs_session_get_worker (self->session), self->channel, FALSE,
                 cs_evolution_job_run, job, cs_evolution_job_unref, NULL, evolution_done,
                 cs_unit_call_new (self, self->serial));
}

static void
image_ready_cb (CsUnitActmax *actmax, const CsUnitImage *image, CsUnitEvolution *self)
{
  set_actmax_cell (self, image);
  maybe_start (self);
}

static void
epoch_clicked_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsUnitEvolution *self)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  cs_session_set_epoch (self->session, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (widget), "epoch")));
}

static void
update_sparkline (CsUnitEvolution *self)
{
  const cs_graph *g = self->set != NULL ? cs_model_set_get_graph (self->set) : NULL;
  int wnode = g != NULL && self->layer >= 0 ? cs_unit_weight_node (g, self->layer) : -1;
  const cs_layer_series *ls;

  g_clear_pointer (&self->spark, g_free);
  self->n_spark = 0;
  if (self->stats != NULL && wnode >= 0
      && (ls = cs_run_stats_layer (self->stats, g->nodes[wnode].name)) != NULL
      && self->unit < ls->n_filters)
    {
      self->n_spark = self->stats->n_epochs;
      self->spark = g_new (float, self->n_spark);
      for (int e = 0; e < self->n_spark; e++)
        self->spark[e] = ls->filter_change[(gsize) e * ls->n_filters + self->unit];
    }
  if (self->sparkline != NULL)
    {
      gtk_widget_set_visible (self->sparkline, self->spark != NULL);
      gtk_widget_queue_draw (self->sparkline);
    }
}

static double
spark_y (CsUnitEvolution *self, int e, int height, float hi)
{
  return height - 3 - (height - 6) * self->spark[e] / hi;
}

/* The unit's per-epoch filter change, one point under each epoch's column. */
static void
sparkline_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsUnitEvolution *self = user_data;
  float hi = 0;
  gboolean started = FALSE;
  double step;

  if (self->spark == NULL || self->n_spark == 0)
    return;
  for (int e = 0; e < self->n_spark; e++)
    if (isfinite (self->spark[e]))
      hi = MAX (hi, self->spark[e]);
  if (hi <= 0)
    hi = 1;
  step = (double) width / self->n_spark;
  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.25);
  cairo_rectangle (cr, 0, height - 1, width, 1);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
  cairo_set_line_width (cr, 1.5);
  for (int e = 0; e < self->n_spark; e++)
    {
      if (!isfinite (self->spark[e]))
        continue;
      if (started)
        cairo_line_to (cr, (e + 0.5) * step, spark_y (self, e, height, hi));
      else
        cairo_move_to (cr, (e + 0.5) * step, spark_y (self, e, height, hi));
      started = TRUE;
    }
  cairo_stroke (cr);
  for (int e = 0; e < self->n_spark; e++)
    {
      if (!isfinite (self->spark[e]))
        continue;
      if (e == self->epoch)
        cairo_set_source_rgb (cr, 0.9, 0.38, 0.0);
      else
        cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      cairo_arc (cr, (e + 0.5) * step, spark_y (self, e, height, hi), e == self->epoch ? 3.5 : 2.0,
                 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static GtkWidget *
row_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_set_margin_end (label, 4);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "dim-label");
  return label;
}

static GtkWidget *
thumb_new (CsUnitEvolution *self, int e)
{
  GtkWidget *picture = gtk_picture_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  gtk_widget_set_size_request (picture, THUMB, THUMB);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_add_css_class (picture, "unit-thumb");
  g_object_set_data (G_OBJECT (picture), "epoch", GINT_TO_POINTER (e));
  g_signal_connect (click, "released", G_CALLBACK (epoch_clicked_cb), self);
  gtk_widget_add_controller (picture, GTK_EVENT_CONTROLLER (click));
  return picture;
}

static void
clear_grid (CsUnitEvolution *self)
{
  GtkWidget *child;

  if (self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
  self->serial++;
  g_clear_pointer (&self->job, cs_evolution_job_unref);
  set_loading (self, FALSE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->evolution_grid))) != NULL)
    gtk_grid_remove (self->evolution_grid, child);
  g_clear_pointer (&self->labels, g_free);
  g_clear_pointer (&self->weights, g_free);
  g_clear_pointer (&self->actmax_cells, g_free);
  self->sparkline = NULL;
  self->n_weights = self->n_actmax = 0;
}

/* An empty grid for the unit: labels row, weights row, actmax row, sparkline. */
static void
reset_grid (CsUnitEvolution *self)
{
  GtkWidget *change_label;

  clear_grid (self);
  if (self->layer < 0)
    return;
  self->labels = g_new0 (GtkWidget *, self->n_epochs);
  self->weights = g_new0 (GtkWidget *, self->n_epochs);
  self->actmax_cells = g_new0 (GtkWidget *, self->n_epochs);
  gtk_grid_attach (self->evolution_grid, row_label (_("epoch")), 0, 0, 1, 1);
  self->weights_label = row_label (_("weights"));
  gtk_widget_set_visible (self->weights_label, FALSE);
  gtk_grid_attach (self->evolution_grid, self->weights_label, 0, 1, 1, 1);
  gtk_grid_attach (self->evolution_grid, row_label (_("maximises")), 0, 2, 1, 1);
  change_label = row_label (_("change"));
  gtk_widget_set_tooltip_text (change_label, _("‖w_t − w_t−1‖ / ‖w_t−1‖ of this filter per epoch (weight analysis)"));
  gtk_grid_attach (self->evolution_grid, change_label, 0, 3, 1, 1);
  for (int e = 0; e < self->n_epochs; e++)
    {
      char num[16];
      g_snprintf (num, sizeof num, "%d", cs_model_set_get_epoch_number (self->set, e));
      self->labels[e] = gtk_label_new (num);
      gtk_widget_add_css_class (self->labels[e], "caption");
      gtk_widget_add_css_class (self->labels[e], "unit-epoch");
      self->weights[e] = thumb_new (self, e);
      self->actmax_cells[e] = thumb_new (self, e);
      gtk_grid_attach (self->evolution_grid, self->labels[e], e + 1, 0, 1, 1);
      gtk_grid_attach (self->evolution_grid, self->weights[e], e + 1, 1, 1, 1);
      gtk_grid_attach (self->evolution_grid, self->actmax_cells[e], e + 1, 2, 1, 1);
    }
  self->sparkline = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->sparkline), 30);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->sparkline), sparkline_draw, self, NULL);
  gtk_grid_attach (self->evolution_grid, self->sparkline, 1, 3, MAX (self->n_epochs, 1), 1);
  update_sparkline (self);
  update_current (self);
  self->wanted = TRUE;
  update_status (self);
}

static void
params_changed_cb (CsUnitActmax *actmax, CsUnitEvolution *self)
{
  reset_grid (self);
}

static void
stats_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint64 serial;
  g_autoptr (CsUnitEvolution) self = cs_unit_call_steal (user_data, &serial);
  g_autoptr (GError) error = NULL;
  cs_run_stats *stats = cs_worker_finish (CS_WORKER (source), result, &error);

  if (stats == NULL)
    return;  /* no sparkline: the rest of the inspector does not need it */
  g_clear_pointer (&self->stats, cs_run_stats_free);
  self->stats = stats;
  update_sparkline (self);
}

void
cs_unit_evolution_set_session (CsUnitEvolution *self, CsSession *session, CsUnitActmax *actmax)
{
  if (self->actmax != NULL)
    g_signal_handlers_disconnect_by_data (self->actmax, self);
  g_set_object (&self->session, session);
  g_set_object (&self->actmax, actmax);
  if (actmax != NULL)
    {
      g_signal_connect_object (actmax, "image-ready", G_CALLBACK (image_ready_cb), self, 0);
      g_signal_connect_object (actmax, "params-changed", G_CALLBACK (params_changed_cb), self, 0);
    }
}

void
cs_unit_evolution_reset (CsUnitEvolution *self, CsModelSet *set)
{
  if (self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), self->stats_channel);
  self->layer = self->unit = self->epoch = -1;
  clear_grid (self);
  g_clear_pointer (&self->stats, cs_run_stats_free);
  g_clear_pointer (&self->set, cs_model_set_unref);
  self->n_epochs = 0;
  if (set == NULL)
    return;
  self->set = cs_model_set_ref (set);
  self->n_epochs = cs_model_set_get_n_epochs (set);
  if (cs_model_set_get_run (set) != NULL && self->n_epochs > 1)
    cs_worker_run (cs_session_get_worker (self->session), self->stats_channel, FALSE,
                   cs_run_stats_job_run, cs_model_set_ref (set), (GDestroyNotify) cs_model_set_unref,
                   cs_run_stats_result_free, stats_done, cs_unit_call_new (self, 0));
}

void
cs_unit_evolution_select (CsUnitEvolution *self, int epoch, int layer, int unit)
{
  gboolean unit_changed = layer != self->layer || unit != self->unit;

  self->epoch = epoch;
  if (layer < 0)
    {
      if (self->session != NULL)
        cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      set_loading (self, FALSE);
      self->layer = self->unit = -1;
      return;
    }
  self->layer = layer;
  self->unit = unit;
  if (unit_changed)
    reset_grid (self);
  else
    update_current (self);
}

gboolean
cs_unit_evolution_get_loading (CsUnitEvolution *self)
{
  return cs_unit_panel_get_loading (CS_UNIT_PANEL (self));
}

guint
cs_unit_evolution_get_n_weights (CsUnitEvolution *self)
{
  return self->n_weights;
}

guint
cs_unit_evolution_get_n_actmax (CsUnitEvolution *self)
{
  return self->n_actmax;
}

const float *
cs_unit_evolution_get_sparkline (CsUnitEvolution *self, int *n)
{
  *n = self->n_spark;
  return self->spark;
}

static void
cs_unit_evolution_dispose (GObject *object)
{
  CsUnitEvolution *self = CS_UNIT_EVOLUTION (object);

  cs_unit_evolution_reset (self, NULL);
  if (self->actmax != NULL)
    g_signal_handlers_disconnect_by_data (self->actmax, self);
  g_clear_object (&self->actmax);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_EVOLUTION);
  G_OBJECT_CLASS (cs_unit_evolution_parent_class)->dispose (object);
}

static void
cs_unit_evolution_finalize (GObject *object)
{
  CsUnitEvolution *self = CS_UNIT_EVOLUTION (object);

  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->stats, cs_run_stats_free);
  g_clear_pointer (&self->job, cs_evolution_job_unref);
  g_free (self->labels);
  g_free (self->weights);
  g_free (self->actmax_cells);
  g_free (self->spark);
  G_OBJECT_CLASS (cs_unit_evolution_parent_class)->finalize (object);
}

static void
cs_unit_evolution_class_init (CsUnitEvolutionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_unit_evolution_dispose;
  object_class->finalize = cs_unit_evolution_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-evolution.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitEvolution, evolution_status);
  gtk_widget_class_bind_template_child (widget_class, CsUnitEvolution, evolution_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitEvolution, evolution_grid);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitevolution");
}

static void
cs_unit_evolution_init (CsUnitEvolution *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  cs_unit_channel_init (self->channel, sizeof self->channel, "evolution");
  cs_unit_channel_init (self->stats_channel, sizeof self->stats_channel, "stats");
  self->layer = self->unit = self->epoch = -1;
}
