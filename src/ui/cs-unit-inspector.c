/* CsUnitInspector: follows session:layer, :unit and :epoch. Four kinds of worker jobs feed it
 * (cs-unit-jobs.h); results are cached in memory per model set, so going back to a unit or an
 * epoch is instant, and every job carries a serial so that a superseded one is dropped. */
#include "config.h"

#include <math.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "cs-unit-inspector.h"
#include "cs-unit-jobs.h"
#include "graph/ops.h"

#define N_TOP 9
#define N_RANKED 12
#define THUMB 40
#define ACTMAX_SIZE 184
#define TOP_SIZE 50

struct _CsUnitInspector
{
  GtkWidget parent_instance;
  CsSession *session;
  GBinding *explain_binding;
  CsModelSet *set;             /* what the caches belong to */
  char actmax_channel[40], topk_channel[40], evolution_channel[40], rank_channel[40],
       stats_channel[40];

  int epoch, layer, unit;      /* the unit shown; layer -1 when none */
  cs_actmax_params params;
  gboolean updating;           /* setting the popover from params: no feedback */
  guint params_timeout;

  /* Activation maximisation. */
  GHashTable *actmax_cache;    /* key -> CsUnitImage */
  guint64 actmax_serial;
  gboolean actmax_loading;
  CsUnitImage *shown;          /* a copy of the image shown */
  gboolean shown_final;
  GdkTexture *actmax_texture;
  guint n_live, n_dropped;

  /* Top examples. */
  char *dataset_spec;
  CsDatasetRef *dataset;
  gboolean train_split;
  GHashTable *topk_cache;      /* "epoch:layer:split" -> CsTopkResult */
  CsTopkJob *topk_job;         /* the running job's data (the worker owns it) */
  guint64 topk_serial;
  gboolean topk_loading;
  guint topk_timer;
  guint n_top;

  /* Evolution over training. */
  int n_epochs;
  int evo_layer, evo_unit;     /* what the grid holds */
  GtkWidget **evo_labels, **evo_weights, **evo_actmax;
  GtkWidget *weights_label;
  GtkWidget *sparkline;
  guint64 evolution_serial;
  CsEvolutionJob *evolution_job; /* the running one, to drain its queue when it ends */
  gboolean evolution_loading;
  gboolean evolution_wanted;   /* start once the main image is done */
  guint n_evo_weights, n_evo_actmax;
  cs_run_stats *stats;
  float *spark;
  int n_spark;

  /* Rankings. */
  GArray *ranked;
  guint64 rank_serial;
  gboolean rank_loading;

  GtkStack *stack;
  GtkLabel *title;
  GtkLabel *subtitle;
  GtkToggleButton *explain_button;
  GtkPicture *actmax_picture;
  GtkSpinner *actmax_spinner;
  GtkLabel *actmax_status;
  GtkAdjustment *steps_adjustment, *lr_adjustment, *jitter_adjustment, *scale_adjustment,
                *rotation_adjustment, *decay_adjustment, *seed_adjustment;
  GtkDropDown *param_dropdown;
  GtkDropDown *split_dropdown;
  GtkFlowBox *topk_box;
  GtkProgressBar *topk_progress;
  GtkLabel *topk_status;
  GtkLabel *evolution_status;
  GtkSpinner *evolution_spinner;
  GtkGrid *evolution_grid;
  GtkDropDown *rank_from, *rank_to;
  GtkSpinner *rank_spinner;
  GtkFlowBox *rank_box;
};

enum {
  PROP_0,
  PROP_SESSION,
  PROP_ACTMAX_LOADING,
  PROP_TOPK_LOADING,
  PROP_EVOLUTION_LOADING,
  PROP_RANK_LOADING,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsUnitInspector, cs_unit_inspector, GTK_TYPE_WIDGET)

static void maybe_start_evolution (CsUnitInspector *self);
static void evolution_set_actmax_cell (CsUnitInspector *self, const CsUnitImage *image);

static void
set_flag (CsUnitInspector *self, gboolean *flag, gboolean value, int prop)
{
  if (*flag == value)
    return;
  *flag = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static char *
params_key (const cs_actmax_params *p)
{
  return g_strdup_printf ("%d/%g/%d/%g/%d/%g/%g/%g/%g/%" G_GUINT64_FORMAT, p->steps,
                          p->learning_rate, (int) p->param, p->blur_sigma, p->jitter,
                          p->scale_range, p->rotate_degrees, p->l2_decay, p->init_sd,
                          (guint64) p->seed);
}

static char *
actmax_key (CsUnitInspector *self, int epoch, int layer, int unit)
{
  g_autofree char *pk = params_key (&self->params);

  return g_strdup_printf ("%d:%d:%d:%s", epoch, layer, unit, pk);
}

static CsUnitImage *
unit_image_copy (const CsUnitImage *image)
{
  CsUnitImage *copy = g_memdup2 (image, sizeof *image);

  copy->pixels = g_memdup2 (image->pixels, (gsize) image->c * image->h * image->w * sizeof (float));
  return copy;
}

static const cs_graph *
graph (CsUnitInspector *self)
{
  return self->set != NULL ? cs_model_set_get_graph (self->set) : NULL;
}

static int
epoch_number (CsUnitInspector *self, int index)
{
  return self->set != NULL ? cs_model_set_get_epoch_number (self->set, index) : index;
}

/* Activation maximisation. */

static void
show_actmax (CsUnitInspector *self, const CsUnitImage *image, gboolean final, int step, int steps)
{
  g_autofree char *status = NULL;

  g_clear_pointer (&self->shown, cs_unit_image_free);
  g_clear_object (&self->actmax_texture);
  if (image != NULL)
    {
      self->shown = unit_image_copy (image);
      self->actmax_texture = cs_unit_image_texture (image, ACTMAX_SIZE);
    }
  self->shown_final = final;
  gtk_picture_set_paintable (self->actmax_picture, GDK_PAINTABLE (self->actmax_texture));
  if (image == NULL)
    status = g_strdup ("");
  else if (final)
    status = g_strdup_printf (_("mean activation %.3g · %.2g s"), image->activation, image->seconds);
  else
    status = g_strdup_printf (_("step %d / %d · mean activation %.3g"), step, steps, image->activation);
  gtk_label_set_text (self->actmax_status, status);
}

static gboolean
actmax_step_idle (gpointer data)
{
  CsActmaxJob *job = data;
  g_autoptr (CsUnitInspector) self = g_weak_ref_get (&job->owner);
  CsUnitImage *image;
  int step, steps;

  if (self == NULL || job->generation != self->actmax_serial || !self->actmax_loading)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&job->lock);
  job->pending = FALSE;
  image = job->live.pixels != NULL ? unit_image_copy (&job->live) : NULL;
  step = job->step;
  steps = job->steps;
  g_mutex_unlock (&job->lock);
  if (image != NULL)
    {
      image->epoch = job->epoch, image->layer = job->layer, image->unit = job->unit;
      show_actmax (self, image, FALSE, step, steps);
      self->n_live++;
      cs_unit_image_free (image);
    }
  return G_SOURCE_REMOVE;
}

static void
actmax_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsUnitInspector) self = user_data;
  g_autoptr (GError) error = NULL;
  CsUnitImage *image = cs_worker_finish (CS_WORKER (source), result, &error);

  if (image == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      self->n_dropped++;
      return;
    }
  set_flag (self, &self->actmax_loading, FALSE, PROP_ACTMAX_LOADING);
  gtk_spinner_set_spinning (self->actmax_spinner, FALSE);
  if (image == NULL)
    {
      gtk_label_set_text (self->actmax_status, error->message);
      return;
    }
  g_hash_table_insert (self->actmax_cache, actmax_key (self, image->epoch, image->layer, image->unit),
                       image);
  if (image->epoch == self->epoch && image->layer == self->layer && image->unit == self->unit)
    show_actmax (self, image, TRUE, 0, 0);
  evolution_set_actmax_cell (self, image);
  maybe_start_evolution (self);
}

static void
start_actmax (CsUnitInspector *self)
{
  g_autofree char *key = actmax_key (self, self->epoch, self->layer, self->unit);
  CsUnitImage *cached = g_hash_table_lookup (self->actmax_cache, key);
  CsActmaxJob *job;

  if (cached != NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), self->actmax_channel);
      set_flag (self, &self->actmax_loading, FALSE, PROP_ACTMAX_LOADING);
      gtk_spinner_set_spinning (self->actmax_spinner, FALSE);
      show_actmax (self, cached, TRUE, 0, 0);
      maybe_start_evolution (self);
      return;
    }
  /* Keep the previous epoch's image of the same unit until the first step arrives: it is
   * usually close, and the picture does not flash. */
  if (self->shown != NULL && (self->shown->layer != self->layer || self->shown->unit != self->unit))
    show_actmax (self, NULL, FALSE, 0, 0);
  job = cs_actmax_job_new (self->set, self->epoch, self->layer, self->unit, &self->params);
  job->generation = ++self->actmax_serial;
  job->on_step = actmax_step_idle;
  g_weak_ref_set (&job->owner, self);
  set_flag (self, &self->actmax_loading, TRUE, PROP_ACTMAX_LOADING);
  gtk_spinner_set_spinning (self->actmax_spinner, TRUE);
  gtk_label_set_text (self->actmax_status, _("starting…"));
  cs_worker_run (cs_session_get_worker (self->session), self->actmax_channel, FALSE,
                 cs_actmax_job_run, job, cs_actmax_job_unref, cs_unit_image_free, actmax_done,
                 g_object_ref (self));
}

/* Top examples. */

static char *
topk_key (int epoch, int layer, gboolean train)
{
  return g_strdup_printf ("%d:%d:%d", epoch, layer, train);
}

static void
clear_flow_box (GtkFlowBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_flow_box_remove (box, child);
}

static void
show_topk (CsUnitInspector *self, const CsTopkResult *r)
{
  const cs_top_example *ex;
  int32_t count = 0;
  g_autofree char *status = NULL;

  clear_flow_box (self->topk_box);
  self->n_top = 0;
  if (r == NULL)
    return;
  ex = cs_topk_channel (&r->topk, self->unit, &count);
  for (int i = 0; ex != NULL && i < count; i++)
    {
      g_autoptr (GdkTexture) t = cs_topk_result_texture (r, self->unit, i, TOP_SIZE);
      GtkWidget *cell = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (t));
      GtkWidget *caption;
      char buf[64];
      g_autofree char *text = NULL;
      g_autofree char *tip = NULL;

      gtk_widget_set_size_request (picture, TOP_SIZE, TOP_SIZE);
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      text = g_strdup_printf ("%.2f · %s", ex[i].activation,
                              ex[i].label >= 0
                              ? cs_model_set_get_class_label (self->set, ex[i].label, buf, sizeof buf)
                              : "?");
      caption = gtk_label_new (text);
      gtk_label_set_ellipsize (GTK_LABEL (caption), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (caption), 10);
      gtk_widget_add_css_class (caption, "caption");
      /* %lld, not G_GINT64_FORMAT: xgettext cannot see through the macro. The split's name
       * has a context: a translation may need a preposition with it. */
      tip = g_strdup_printf (_("Image %lld of the %s split: activation %.4g at (%d, %d); "
                               "the outlined box is the receptive field of that position"),
                             (long long) ex[i].index,
                             r->train_split ? C_("of the split", "training") : C_("of the split", "test"),
                             ex[i].activation, ex[i].y, ex[i].x);
      gtk_widget_set_tooltip_text (cell, tip);
      gtk_box_append (GTK_BOX (cell), picture);
      gtk_box_append (GTK_BOX (cell), caption);
      gtk_widget_add_css_class (cell, "unit-example");
      gtk_flow_box_append (self->topk_box, cell);
      self->n_top++;
    }
  /* The examples fill the column: how they were found goes into a tooltip. */
  status = g_strdup_printf (_("%lld images searched in %.2g s"), (long long) r->topk.n_images,
                            r->topk.seconds);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->topk_box), status);
  gtk_widget_set_visible (GTK_WIDGET (self->topk_status), self->n_top == 0);
  gtk_label_set_text (self->topk_status, self->n_top == 0 ? _("No examples") : "");
}

static void
topk_message (CsUnitInspector *self, const char *text)
{
  gtk_label_set_text (self->topk_status, text);
  gtk_widget_set_visible (GTK_WIDGET (self->topk_status), TRUE);
}

static gboolean
topk_timer_cb (gpointer user_data)
{
  CsUnitInspector *self = user_data;

  if (self->topk_job != NULL)
    gtk_progress_bar_set_fraction (self->topk_progress,
                                   g_atomic_int_get (&self->topk_job->permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static void
topk_set_loading (CsUnitInspector *self, gboolean loading)
{
  gtk_widget_set_visible (GTK_WIDGET (self->topk_progress), loading);
  if (loading && self->topk_timer == 0)
    self->topk_timer = g_timeout_add (100, topk_timer_cb, self);
  else if (!loading)
    {
      g_clear_handle_id (&self->topk_timer, g_source_remove);
      self->topk_job = NULL;
    }
  set_flag (self, &self->topk_loading, loading, PROP_TOPK_LOADING);
}

typedef struct
{
  CsUnitInspector *self;
  guint64 serial;
} Call;

static Call *
call_new (CsUnitInspector *self, guint64 serial)
{
  Call *call = g_new (Call, 1);

  call->self = g_object_ref (self);
  call->serial = serial;
  return call;
}

static void
topk_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (CsUnitInspector) self = call->self;
  g_autoptr (GError) error = NULL;
  CsTopkResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  gboolean current = call->serial == self->topk_serial;

  g_free (call);
  if (r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (current)
    topk_set_loading (self, FALSE);
  if (r == NULL)
    {
      if (current)
        topk_message (self, error->message);
      return;
    }
  g_hash_table_insert (self->topk_cache, topk_key (r->epoch, r->layer, r->train_split), r);
  if (current)
    show_topk (self, r);
}

static void
start_topk (CsUnitInspector *self)
{
  g_autofree char *key = NULL;
  CsTopkResult *cached;
  CsTopkJob *job;

  if (self->dataset == NULL)
    {
      clear_flow_box (self->topk_box);
      self->n_top = 0;
      topk_message (self, cs_model_set_get_run (self->set) != NULL
                    ? _("The run names no data set (run.json “dataset”)")
                    : _("Open a training run to see its data set's top examples"));
      return;
    }
  key = topk_key (self->epoch, self->layer, self->train_split);
  cached = g_hash_table_lookup (self->topk_cache, key);
  self->topk_serial++;
  if (cached != NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), self->topk_channel);
      topk_set_loading (self, FALSE);
      show_topk (self, cached);
      return;
    }
  clear_flow_box (self->topk_box);
  self->n_top = 0;
  topk_message (self, _("Searching the data set…"));
  gtk_progress_bar_set_fraction (self->topk_progress, 0);
  job = g_new0 (CsTopkJob, 1);
  job->set = cs_model_set_ref (self->set);
  job->dataset = cs_dataset_ref_ref (self->dataset);
  job->epoch = self->epoch;
  job->layer = self->layer;
  job->k = N_TOP;
  job->train_split = self->train_split;
  topk_set_loading (self, TRUE);
  self->topk_job = job;
  cs_worker_run (cs_session_get_worker (self->session), self->topk_channel, TRUE, cs_topk_job_run,
                 job, cs_topk_job_free, cs_topk_result_free_all, topk_done,
                 call_new (self, self->topk_serial));
}

/* Evolution over training. */

static void
evolution_update_current (CsUnitInspector *self)
{
  for (int e = 0; e < self->n_epochs && self->evo_labels != NULL; e++)
    {
      if (e == self->epoch)
        {
          gtk_widget_add_css_class (self->evo_labels[e], "current");
          gtk_widget_add_css_class (self->evo_actmax[e], "current");
          gtk_widget_add_css_class (self->evo_weights[e], "current");
        }
      else
        {
          gtk_widget_remove_css_class (self->evo_labels[e], "current");
          gtk_widget_remove_css_class (self->evo_actmax[e], "current");
          gtk_widget_remove_css_class (self->evo_weights[e], "current");
        }
    }
  if (self->sparkline != NULL)
    gtk_widget_queue_draw (self->sparkline);
}

static void
evolution_set_actmax_cell (CsUnitInspector *self, const CsUnitImage *image)
{
  g_autoptr (GdkTexture) t = NULL;

  if (self->evo_actmax == NULL || image->layer != self->evo_layer || image->unit != self->evo_unit
      || image->epoch < 0 || image->epoch >= self->n_epochs)
    return;
  if (gtk_picture_get_paintable (GTK_PICTURE (self->evo_actmax[image->epoch])) == NULL)
    self->n_evo_actmax++;
  t = cs_unit_image_texture (image, THUMB);
  gtk_picture_set_paintable (GTK_PICTURE (self->evo_actmax[image->epoch]), GDK_PAINTABLE (t));
}

static void
evolution_status (CsUnitInspector *self)
{
  g_autofree char *text = NULL;

  if (self->evolution_loading)
    text = g_strdup_printf (_("computing epoch images %u / %d…"), self->n_evo_actmax, self->n_epochs);
  else
    text = g_strdup_printf (_("%d epochs · click one to go there"), self->n_epochs);
  gtk_label_set_text (self->evolution_status, text);
  gtk_spinner_set_spinning (self->evolution_spinner, self->evolution_loading);
}

static void
evolution_take_cells (CsUnitInspector *self, CsEvolutionJob *job)
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
              gtk_picture_set_paintable (GTK_PICTURE (self->evo_weights[cell->epoch]), GDK_PAINTABLE (t));
              gtk_widget_set_visible (self->weights_label, TRUE);
              self->n_evo_weights++;
            }
          continue;
        }
      evolution_set_actmax_cell (self, cell);
      /* Cached like the main image: selecting that epoch shows it at once. */
      g_hash_table_insert (self->actmax_cache, actmax_key (self, cell->epoch, cell->layer, cell->unit),
                           g_steal_pointer (&cells->pdata[i]));
    }
  evolution_status (self);
}

static gboolean
evolution_cell_idle (gpointer data)
{
  CsEvolutionJob *job = data;
  g_autoptr (CsUnitInspector) self = g_weak_ref_get (&job->owner);

  if (self != NULL && job->generation == self->evolution_serial)
    evolution_take_cells (self, job);
  return G_SOURCE_REMOVE;
}

static void
evolution_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (CsUnitInspector) self = call->self;
  g_autoptr (GError) error = NULL;
  gpointer r = cs_worker_finish (CS_WORKER (source), result, &error);
  gboolean current = call->serial == self->evolution_serial;

  g_free (call);
  if (!current || (r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    return;
  /* The last cells may still sit in the queue (the idle is low priority): take them now, so
   * that the grid is complete when loading ends. */
  if (self->evolution_job != NULL)
    evolution_take_cells (self, self->evolution_job);
  g_clear_pointer (&self->evolution_job, cs_evolution_job_unref);
  set_flag (self, &self->evolution_loading, FALSE, PROP_EVOLUTION_LOADING);
  if (r == NULL)
    {
      gtk_label_set_text (self->evolution_status, error->message);
      gtk_spinner_set_spinning (self->evolution_spinner, FALSE);
      return;
    }
  evolution_status (self);
}

/* Low priority: started after the main image is done, and only for epochs not cached. */
static void
maybe_start_evolution (CsUnitInspector *self)
{
  g_autofree int *order = NULL;
  int n = 0;
  CsEvolutionJob *job;

  if (!self->evolution_wanted || self->actmax_loading || self->layer < 0)
    return;
  self->evolution_wanted = FALSE;
  order = g_new (int, MAX (self->n_epochs, 1));
  for (int e = 0; e < self->n_epochs; e++)
    {
      g_autofree char *key = actmax_key (self, e, self->layer, self->unit);
      CsUnitImage *cached = g_hash_table_lookup (self->actmax_cache, key);
      if (cached != NULL)
        evolution_set_actmax_cell (self, cached);
      else
        order[n++] = e;
    }
  job = cs_evolution_job_new (self->set, self->layer, self->unit, &self->params, order, n);
  job->generation = ++self->evolution_serial;
  job->on_cell = evolution_cell_idle;
  g_weak_ref_set (&job->owner, self);
  g_clear_pointer (&self->evolution_job, cs_evolution_job_unref);
  self->evolution_job = cs_evolution_job_ref (job);
  set_flag (self, &self->evolution_loading, TRUE, PROP_EVOLUTION_LOADING);
  evolution_status (self);
  cs_worker_run (cs_session_get_worker (self->session), self->evolution_channel, FALSE,
                 cs_evolution_job_run, job, cs_evolution_job_unref, NULL, evolution_done,
                 call_new (self, self->evolution_serial));
}

static void
epoch_clicked_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsUnitInspector *self)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  cs_session_set_epoch (self->session, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (widget), "epoch")));
}

static void
update_sparkline (CsUnitInspector *self)
{
  const cs_graph *g = graph (self);
  int wnode = cs_unit_weight_node (g, self->layer);
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

/* The unit's per-epoch filter change, one point under each epoch's column. */
static void
sparkline_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsUnitInspector *self = user_data;
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
      double x = (e + 0.5) * step, y;
      if (!isfinite (self->spark[e]))
        continue;
      y = height - 3 - (height - 6) * self->spark[e] / hi;
      if (started)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      started = TRUE;
    }
  cairo_stroke (cr);
  for (int e = 0; e < self->n_spark; e++)
    {
      double x = (e + 0.5) * step, y;
      if (!isfinite (self->spark[e]))
        continue;
      y = height - 3 - (height - 6) * self->spark[e] / hi;
      if (e == self->epoch)
        cairo_set_source_rgb (cr, 0.9, 0.38, 0.0);
      else
        cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      cairo_arc (cr, x, y, e == self->epoch ? 3.5 : 2.0, 0, 2 * G_PI);
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
thumb_new (CsUnitInspector *self, int e)
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

/* An empty grid for the unit: labels row, weights row, actmax row, sparkline. */
static void
reset_evolution (CsUnitInspector *self)
{
  GtkWidget *child;
  GtkWidget *change_label;

  cs_worker_cancel (cs_session_get_worker (self->session), self->evolution_channel);
  self->evolution_serial++;
  g_clear_pointer (&self->evolution_job, cs_evolution_job_unref);
  set_flag (self, &self->evolution_loading, FALSE, PROP_EVOLUTION_LOADING);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->evolution_grid))) != NULL)
    gtk_grid_remove (self->evolution_grid, child);
  g_clear_pointer (&self->evo_labels, g_free);
  g_clear_pointer (&self->evo_weights, g_free);
  g_clear_pointer (&self->evo_actmax, g_free);
  self->sparkline = NULL;
  self->n_evo_weights = self->n_evo_actmax = 0;
  self->evo_layer = self->layer;
  self->evo_unit = self->unit;
  if (self->layer < 0)
    return;

  self->evo_labels = g_new0 (GtkWidget *, self->n_epochs);
  self->evo_weights = g_new0 (GtkWidget *, self->n_epochs);
  self->evo_actmax = g_new0 (GtkWidget *, self->n_epochs);
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
      g_snprintf (num, sizeof num, "%d", epoch_number (self, e));
      self->evo_labels[e] = gtk_label_new (num);
      gtk_widget_add_css_class (self->evo_labels[e], "caption");
      gtk_widget_add_css_class (self->evo_labels[e], "unit-epoch");
      self->evo_weights[e] = thumb_new (self, e);
      self->evo_actmax[e] = thumb_new (self, e);
      gtk_grid_attach (self->evolution_grid, self->evo_labels[e], e + 1, 0, 1, 1);
      gtk_grid_attach (self->evolution_grid, self->evo_weights[e], e + 1, 1, 1, 1);
      gtk_grid_attach (self->evolution_grid, self->evo_actmax[e], e + 1, 2, 1, 1);
    }
  self->sparkline = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->sparkline), 30);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->sparkline), sparkline_draw, self, NULL);
  gtk_grid_attach (self->evolution_grid, self->sparkline, 1, 3, MAX (self->n_epochs, 1), 1);
  update_sparkline (self);
  evolution_update_current (self);
  self->evolution_wanted = TRUE;
  evolution_status (self);
}

static void
stats_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (CsUnitInspector) self = call->self;
  g_autoptr (GError) error = NULL;
  cs_run_stats *stats = cs_worker_finish (CS_WORKER (source), result, &error);

  g_free (call);
  if (stats == NULL)
    return;  /* no sparkline: the rest of the inspector does not need it */
  g_clear_pointer (&self->stats, cs_run_stats_free);
  self->stats = stats;
  update_sparkline (self);
}

/* Rankings. */

static void
ranked_clicked_cb (GtkButton *button, CsUnitInspector *self)
{
  cs_unit_inspector_activate_ranked (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index")));
}

static void
show_ranked (CsUnitInspector *self)
{
  const cs_graph *g = graph (self);

  clear_flow_box (self->rank_box);
  for (guint i = 0; self->ranked != NULL && i < MIN (self->ranked->len, N_RANKED); i++)
    {
      const CsRankedFilter *f = &g_array_index (self->ranked, CsRankedFilter, i);
      g_autofree char *text = g_strdup_printf ("%u. %s #%d  %.0f %%", i + 1, g->nodes[f->node].name,
                                               f->unit, 100.0 * f->change);
      GtkWidget *button = gtk_button_new_with_label (text);

      gtk_widget_add_css_class (button, "flat");
      gtk_widget_add_css_class (button, "unit-ranked");
      if (f->node == cs_unit_weight_node (g, self->layer) && f->unit == self->unit)
        gtk_widget_add_css_class (button, "current");
      g_object_set_data (G_OBJECT (button), "index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (ranked_clicked_cb), self);
      gtk_flow_box_append (self->rank_box, button);
    }
}

static void
rank_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (CsUnitInspector) self = call->self;
  g_autoptr (GError) error = NULL;
  GArray *ranked = cs_worker_finish (CS_WORKER (source), result, &error);

  if (call->serial != self->rank_serial || (ranked == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_free (call);
      g_clear_pointer (&ranked, g_array_unref);
      return;
    }
  g_free (call);
  gtk_spinner_set_spinning (self->rank_spinner, FALSE);
  g_clear_pointer (&self->ranked, g_array_unref);
  self->ranked = ranked;
  show_ranked (self);
  set_flag (self, &self->rank_loading, FALSE, PROP_RANK_LOADING);
}

static void
start_rank (CsUnitInspector *self)
{
  CsRankJob *job;
  guint a = gtk_drop_down_get_selected (self->rank_from), b = gtk_drop_down_get_selected (self->rank_to);

  if (self->set == NULL || self->n_epochs < 2 || a == GTK_INVALID_LIST_POSITION
      || b == GTK_INVALID_LIST_POSITION)
    return;
  job = g_new0 (CsRankJob, 1);
  job->set = cs_model_set_ref (self->set);
  job->epoch_a = (int) a;
  job->epoch_b = (int) b;
  self->rank_serial++;
  set_flag (self, &self->rank_loading, TRUE, PROP_RANK_LOADING);
  gtk_spinner_set_spinning (self->rank_spinner, TRUE);
  cs_worker_run (cs_session_get_worker (self->session), self->rank_channel, FALSE, cs_rank_job_run,
                 job, cs_rank_job_free, (GDestroyNotify) g_array_unref, rank_done,
                 call_new (self, self->rank_serial));
}

static void
rank_epochs_changed_cb (CsUnitInspector *self)
{
  if (!self->updating)
    start_rank (self);
}

/* The model set changed: caches, the data set and the epoch lists start over. */
static void
reset_for_set (CsUnitInspector *self, CsModelSet *set)
{
  CsWorker *worker = cs_session_get_worker (self->session);
  const char *const channels[] = { self->actmax_channel, self->topk_channel, self->evolution_channel,
                                   self->rank_channel, self->stats_channel };
  g_autoptr (GtkStringList) epochs = gtk_string_list_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    cs_worker_cancel (worker, channels[i]);
  g_hash_table_remove_all (self->actmax_cache);
  g_hash_table_remove_all (self->topk_cache);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->dataset, cs_dataset_ref_unref);
  g_clear_pointer (&self->dataset_spec, g_free);
  g_clear_pointer (&self->stats, cs_run_stats_free);
  g_clear_pointer (&self->ranked, g_array_unref);
  g_clear_pointer (&self->shown, cs_unit_image_free);
  set_flag (self, &self->actmax_loading, FALSE, PROP_ACTMAX_LOADING);
  topk_set_loading (self, FALSE);
  set_flag (self, &self->rank_loading, FALSE, PROP_RANK_LOADING);
  self->layer = self->unit = self->epoch = -1;
  self->n_epochs = 0;
  if (set == NULL)
    return;

  self->set = cs_model_set_ref (set);
  self->n_epochs = cs_model_set_get_n_epochs (set);
  self->dataset_spec = cs_dataset_spec_for_run (cs_model_set_get_run (set));
  if (self->dataset_spec != NULL)
    self->dataset = cs_dataset_ref_new (self->dataset_spec);

  for (int e = 0; e < self->n_epochs; e++)
    {
      char num[32];
      g_snprintf (num, sizeof num, _("epoch %d"), cs_model_set_get_epoch_number (set, e));
      gtk_string_list_append (epochs, num);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->rank_from, G_LIST_MODEL (epochs));
  gtk_drop_down_set_model (self->rank_to, G_LIST_MODEL (epochs));
  gtk_drop_down_set_selected (self->rank_from, 0);
  gtk_drop_down_set_selected (self->rank_to, MAX (self->n_epochs - 1, 0));
  self->updating = FALSE;
  clear_flow_box (self->rank_box);
  start_rank (self);

  if (cs_model_set_get_run (set) != NULL && self->n_epochs > 1)
    cs_worker_run (worker, self->stats_channel, FALSE, cs_run_stats_job_run, cs_model_set_ref (set),
                   (GDestroyNotify) cs_model_set_unref, cs_run_stats_result_free, stats_done,
                   call_new (self, 0));
}

/* Selection. */

static void
update_header (CsUnitInspector *self)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  const cs_node *n = &g->nodes[self->layer];
  g_autofree char *title = g_strdup_printf (_("Unit %d of %s"), self->unit, n->name);
  g_autofree char *sub = g_strdup_printf (_("%s · epoch %d · %s"), cs_op_get (n->op)->name,
                                          epoch_number (self, self->epoch),
                                          self->dataset_spec != NULL ? self->dataset_spec : _("no data set"));

  gtk_label_set_text (self->title, title);
  gtk_label_set_text (self->subtitle, sub);
}

static void
selection_changed (CsUnitInspector *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  int layer, unit, epoch;
  gboolean unit_changed;
  const cs_graph *g;

  if (set != self->set)
    reset_for_set (self, set);
  if (set == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  g = cs_model_set_get_graph (set);
  layer = cs_session_get_layer (self->session);
  unit = cs_session_get_unit (self->session);
  epoch = cs_session_get_epoch (self->session);
  if (layer < 0 || unit < 0 || unit >= cs_actmax_unit_count (g, layer))
    {
      CsWorker *worker = cs_session_get_worker (self->session);
      cs_worker_cancel (worker, self->actmax_channel);
      cs_worker_cancel (worker, self->topk_channel);
      cs_worker_cancel (worker, self->evolution_channel);
      set_flag (self, &self->actmax_loading, FALSE, PROP_ACTMAX_LOADING);
      set_flag (self, &self->evolution_loading, FALSE, PROP_EVOLUTION_LOADING);
      topk_set_loading (self, FALSE);
      self->layer = self->unit = -1;
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "unit");
  unit_changed = layer != self->layer || unit != self->unit;
  if (!unit_changed && epoch == self->epoch)
    return;
  self->layer = layer;
  self->unit = unit;
  self->epoch = epoch;
  update_header (self);
  if (unit_changed)
    reset_evolution (self);
  else
    evolution_update_current (self);
  start_actmax (self);
  start_topk (self);
  if (unit_changed && self->ranked != NULL)
    show_ranked (self);
}

static void
session_changed_cb (CsSession *session, GParamSpec *pspec, CsUnitInspector *self)
{
  selection_changed (self);
}

/* Parameters. */

static void
params_to_widgets (CsUnitInspector *self)
{
  self->updating = TRUE;
  gtk_adjustment_set_value (self->steps_adjustment, self->params.steps);
  gtk_adjustment_set_value (self->lr_adjustment, self->params.learning_rate);
  gtk_drop_down_set_selected (self->param_dropdown, self->params.param == CS_IMAGE_PARAM_PIXEL);
  gtk_adjustment_set_value (self->jitter_adjustment, self->params.jitter);
  gtk_adjustment_set_value (self->scale_adjustment, self->params.scale_range);
  gtk_adjustment_set_value (self->rotation_adjustment, self->params.rotate_degrees);
  gtk_adjustment_set_value (self->decay_adjustment, self->params.l2_decay);
  gtk_adjustment_set_value (self->seed_adjustment, (double) self->params.seed);
  self->updating = FALSE;
}

static void
params_apply (CsUnitInspector *self)
{
  if (self->layer < 0)
    return;
  reset_evolution (self);
  start_actmax (self);
}

static gboolean
params_timeout_cb (gpointer user_data)
{
  CsUnitInspector *self = user_data;

  self->params_timeout = 0;
  params_apply (self);
  return G_SOURCE_REMOVE;
}

static void
params_changed_cb (CsUnitInspector *self)
{
  cs_actmax_params p = self->params;

  if (self->updating)
    return;
  p.steps = (int32_t) gtk_adjustment_get_value (self->steps_adjustment);
  p.learning_rate = (float) gtk_adjustment_get_value (self->lr_adjustment);
  p.param = gtk_drop_down_get_selected (self->param_dropdown) == 1 ? CS_IMAGE_PARAM_PIXEL
                                                                   : CS_IMAGE_PARAM_FOURIER;
  p.jitter = (int32_t) gtk_adjustment_get_value (self->jitter_adjustment);
  p.scale_range = (float) gtk_adjustment_get_value (self->scale_adjustment);
  p.rotate_degrees = (float) gtk_adjustment_get_value (self->rotation_adjustment);
  p.l2_decay = (float) gtk_adjustment_get_value (self->decay_adjustment);
  p.seed = (uint64_t) gtk_adjustment_get_value (self->seed_adjustment);
  self->params = p;
  /* Spinning a value fires many changes: restart once it settles. */
  g_clear_handle_id (&self->params_timeout, g_source_remove);
  self->params_timeout = g_timeout_add (250, params_timeout_cb, self);
}

static void
split_changed_cb (CsUnitInspector *self)
{
  cs_unit_inspector_set_train_split (self, gtk_drop_down_get_selected (self->split_dropdown) == 1);
}

static void
restart_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_unit_inspector_restart (CS_UNIT_INSPECTOR (widget));
}

static void
stop_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (widget);

  if (!self->actmax_loading || self->session == NULL)
    return;
  cs_worker_cancel (cs_session_get_worker (self->session), self->actmax_channel);
  set_flag (self, &self->actmax_loading, FALSE, PROP_ACTMAX_LOADING);
  gtk_spinner_set_spinning (self->actmax_spinner, FALSE);
  gtk_label_set_text (self->actmax_status, _("stopped"));
}

static void
reset_params_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_unit_inspector_set_actmax_params (CS_UNIT_INSPECTOR (widget), &CS_ACTMAX_PARAMS_DEFAULT);
}

/* Public API. */

void
cs_unit_inspector_restart (CsUnitInspector *self)
{
  g_autofree char *key = NULL;

  g_return_if_fail (CS_IS_UNIT_INSPECTOR (self));
  if (self->layer < 0)
    return;
  key = actmax_key (self, self->epoch, self->layer, self->unit);
  g_hash_table_remove (self->actmax_cache, key);
  show_actmax (self, NULL, FALSE, 0, 0);
  start_actmax (self);
}

void
cs_unit_inspector_get_actmax_params (CsUnitInspector *self, cs_actmax_params *params)
{
  *params = self->params;
}

void
cs_unit_inspector_set_actmax_params (CsUnitInspector *self, const cs_actmax_params *params)
{
  g_return_if_fail (CS_IS_UNIT_INSPECTOR (self));
  self->params = *params;
  params_to_widgets (self);
  g_clear_handle_id (&self->params_timeout, g_source_remove);
  params_apply (self);
}

gboolean
cs_unit_inspector_get_actmax_loading (CsUnitInspector *self)
{
  return self->actmax_loading;
}

GdkTexture *
cs_unit_inspector_get_actmax_texture (CsUnitInspector *self)
{
  return self->actmax_texture;
}

const float *
cs_unit_inspector_get_actmax_image (CsUnitInspector *self, int *epoch, int *layer, int *unit,
                                    int *c, int *h, int *w, gboolean *final)
{
  const CsUnitImage *s = self->shown;

  if (s == NULL)
    return NULL;
  if (epoch != NULL) *epoch = s->epoch;
  if (layer != NULL) *layer = s->layer;
  if (unit != NULL) *unit = s->unit;
  if (c != NULL) *c = s->c;
  if (h != NULL) *h = s->h;
  if (w != NULL) *w = s->w;
  if (final != NULL) *final = self->shown_final;
  return s->pixels;
}

guint
cs_unit_inspector_get_n_live_updates (CsUnitInspector *self)
{
  return self->n_live;
}

guint
cs_unit_inspector_get_n_dropped (CsUnitInspector *self)
{
  return self->n_dropped;
}

gboolean
cs_unit_inspector_get_topk_loading (CsUnitInspector *self)
{
  return self->topk_loading;
}

guint
cs_unit_inspector_get_n_top_examples (CsUnitInspector *self)
{
  return self->n_top;
}

const char *
cs_unit_inspector_get_dataset_spec (CsUnitInspector *self)
{
  return self->dataset_spec;
}

void
cs_unit_inspector_set_train_split (CsUnitInspector *self, gboolean train)
{
  if (self->train_split == !!train)
    return;
  self->train_split = !!train;
  if (gtk_drop_down_get_selected (self->split_dropdown) != (guint) self->train_split)
    gtk_drop_down_set_selected (self->split_dropdown, self->train_split);
  if (self->layer >= 0)
    start_topk (self);
}

gboolean
cs_unit_inspector_get_evolution_loading (CsUnitInspector *self)
{
  return self->evolution_loading;
}

guint
cs_unit_inspector_get_n_evolution_weights (CsUnitInspector *self)
{
  return self->n_evo_weights;
}

guint
cs_unit_inspector_get_n_evolution_actmax (CsUnitInspector *self)
{
  return self->n_evo_actmax;
}

const float *
cs_unit_inspector_get_sparkline (CsUnitInspector *self, int *n)
{
  *n = self->n_spark;
  return self->spark;
}

void
cs_unit_inspector_set_rank_epochs (CsUnitInspector *self, int from, int to)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->rank_from, (guint) from);
  gtk_drop_down_set_selected (self->rank_to, (guint) to);
  self->updating = FALSE;
  start_rank (self);
}

gboolean
cs_unit_inspector_get_rank_loading (CsUnitInspector *self)
{
  return self->rank_loading;
}

guint
cs_unit_inspector_get_n_ranked (CsUnitInspector *self)
{
  return self->ranked != NULL ? self->ranked->len : 0;
}

gboolean
cs_unit_inspector_get_ranked (CsUnitInspector *self, guint i, int *node, int *unit, float *change)
{
  const CsRankedFilter *f;

  if (self->ranked == NULL || i >= self->ranked->len)
    return FALSE;
  f = &g_array_index (self->ranked, CsRankedFilter, i);
  *node = f->node;
  *unit = f->unit;
  *change = f->change;
  return TRUE;
}

void
cs_unit_inspector_activate_ranked (CsUnitInspector *self, guint i)
{
  int node, unit;
  float change;

  if (!cs_unit_inspector_get_ranked (self, i, &node, &unit, &change))
    return;
  /* Layer first: setting it clears the unit. */
  g_object_freeze_notify (G_OBJECT (self->session));
  cs_session_set_layer (self->session, node);
  cs_session_set_unit (self->session, unit);
  g_object_thaw_notify (G_OBJECT (self->session));
}

CsSession *
cs_unit_inspector_get_session (CsUnitInspector *self)
{
  return self->session;
}

void
cs_unit_inspector_set_session (CsUnitInspector *self, CsSession *session)
{
  static const char *const signals[] = { "notify::model-set", "notify::layer", "notify::unit",
                                         "notify::epoch" };

  g_return_if_fail (CS_IS_UNIT_INSPECTOR (self));
  if (self->session == session)
    return;
  if (self->session != NULL)
    {
      reset_for_set (self, NULL);
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_clear_pointer (&self->explain_binding, g_binding_unbind);
    }
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
        g_signal_connect_object (session, signals[i], G_CALLBACK (session_changed_cb), self, 0);
      self->explain_binding = g_object_bind_property (session, "explain-unit", self->explain_button,
                                                      "active",
                                                      G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
      selection_changed (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static void
cs_unit_inspector_dispose (GObject *object)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  g_clear_handle_id (&self->params_timeout, g_source_remove);
  g_clear_handle_id (&self->topk_timer, g_source_remove);
  if (self->session != NULL)
    {
      reset_for_set (self, NULL);
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_clear_pointer (&self->explain_binding, g_binding_unbind);
    }
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_INSPECTOR);
  g_clear_pointer (&self->evo_labels, g_free);
  g_clear_pointer (&self->evo_weights, g_free);
  g_clear_pointer (&self->evo_actmax, g_free);
  self->sparkline = NULL;
  g_clear_object (&self->actmax_texture);
  G_OBJECT_CLASS (cs_unit_inspector_parent_class)->dispose (object);
}

static void
cs_unit_inspector_finalize (GObject *object)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  g_hash_table_unref (self->actmax_cache);
  g_hash_table_unref (self->topk_cache);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->dataset, cs_dataset_ref_unref);
  g_free (self->dataset_spec);
  g_clear_pointer (&self->stats, cs_run_stats_free);
  g_clear_pointer (&self->ranked, g_array_unref);
  g_clear_pointer (&self->shown, cs_unit_image_free);
  g_clear_pointer (&self->evolution_job, cs_evolution_job_unref);
  g_free (self->spark);
  G_OBJECT_CLASS (cs_unit_inspector_parent_class)->finalize (object);
}

static void
cs_unit_inspector_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    case PROP_ACTMAX_LOADING: g_value_set_boolean (value, self->actmax_loading); break;
    case PROP_TOPK_LOADING: g_value_set_boolean (value, self->topk_loading); break;
    case PROP_EVOLUTION_LOADING: g_value_set_boolean (value, self->evolution_loading); break;
    case PROP_RANK_LOADING: g_value_set_boolean (value, self->rank_loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_unit_inspector_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  switch (prop_id)
    {
    case PROP_SESSION: cs_unit_inspector_set_session (self, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_unit_inspector_class_init (CsUnitInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cs_unit_inspector_dispose;
  object_class->finalize = cs_unit_inspector_finalize;
  object_class->get_property = cs_unit_inspector_get_property;
  object_class->set_property = cs_unit_inspector_set_property;

  properties[PROP_SESSION] = g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                  | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ACTMAX_LOADING] = g_param_spec_boolean ("actmax-loading", NULL, NULL, FALSE, ro);
  properties[PROP_TOPK_LOADING] = g_param_spec_boolean ("topk-loading", NULL, NULL, FALSE, ro);
  properties[PROP_EVOLUTION_LOADING] = g_param_spec_boolean ("evolution-loading", NULL, NULL, FALSE, ro);
  properties[PROP_RANK_LOADING] = g_param_spec_boolean ("rank-loading", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (ADW_TYPE_STATUS_PAGE);
  g_type_ensure (ADW_TYPE_BUTTON_CONTENT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, stack);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, title);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, subtitle);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, explain_button);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, actmax_picture);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, actmax_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, actmax_status);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, steps_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, lr_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, jitter_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, scale_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, rotation_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, decay_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, param_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, split_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, topk_box);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, topk_progress);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, topk_status);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, evolution_status);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, evolution_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, evolution_grid);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, rank_from);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, rank_to);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, rank_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, rank_box);
  gtk_widget_class_install_action (widget_class, "unit.restart", NULL, restart_action);
  gtk_widget_class_install_action (widget_class, "unit.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "unit.reset-params", NULL, reset_params_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitinspector");
}

static void
cs_unit_inspector_init (CsUnitInspector *self)
{
  static guint counter;
  guint id = ++counter;
  GtkAdjustment *adjustments[7];

  gtk_widget_init_template (GTK_WIDGET (self));
  g_snprintf (self->actmax_channel, sizeof self->actmax_channel, "unit-actmax-%u", id);
  g_snprintf (self->topk_channel, sizeof self->topk_channel, "unit-topk-%u", id);
  g_snprintf (self->evolution_channel, sizeof self->evolution_channel, "unit-evolution-%u", id);
  g_snprintf (self->rank_channel, sizeof self->rank_channel, "unit-rank-%u", id);
  g_snprintf (self->stats_channel, sizeof self->stats_channel, "unit-stats-%u", id);
  self->layer = self->unit = self->epoch = -1;
  self->params = CS_ACTMAX_PARAMS_DEFAULT;
  self->actmax_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cs_unit_image_free);
  self->topk_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cs_topk_result_free_all);
  params_to_widgets (self);

  adjustments[0] = self->steps_adjustment;
  adjustments[1] = self->lr_adjustment;
  adjustments[2] = self->jitter_adjustment;
  adjustments[3] = self->scale_adjustment;
  adjustments[4] = self->rotation_adjustment;
  adjustments[5] = self->decay_adjustment;
  adjustments[6] = self->seed_adjustment;
  for (guint i = 0; i < G_N_ELEMENTS (adjustments); i++)
    g_signal_connect_swapped (adjustments[i], "value-changed", G_CALLBACK (params_changed_cb), self);
  g_signal_connect_swapped (self->param_dropdown, "notify::selected", G_CALLBACK (params_changed_cb), self);
  g_signal_connect_swapped (self->split_dropdown, "notify::selected", G_CALLBACK (split_changed_cb), self);
  g_signal_connect_swapped (self->rank_from, "notify::selected", G_CALLBACK (rank_epochs_changed_cb), self);
  g_signal_connect_swapped (self->rank_to, "notify::selected", G_CALLBACK (rank_epochs_changed_cb), self);
}

GtkWidget *
cs_unit_inspector_new (CsSession *session)
{
  return g_object_new (CS_TYPE_UNIT_INSPECTOR, "session", session, NULL);
}
