/* CsUnitActmax: one actmax job at a time on its channel, live steps through a low-priority
 * idle, finished images cached per (epoch, layer, unit, parameters). */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-unit-actmax.h"
#include "cs-unit-panel.h"
#include "base/duration.h"

#define ACTMAX_SIZE 184

struct _CsUnitActmax
{
  CsUnitPanel parent_instance;
  CsSession *session;
  CsModelSet *set;
  char channel[40];
  int epoch, layer, unit;      /* the unit shown; layer -1 when none */
  cs_actmax_params params;
  gboolean updating;           /* setting the popover from params: no feedback */
  guint params_timeout;

  GHashTable *cache;           /* key -> CsUnitImage */
  guint64 serial;
  CsUnitImage *shown;          /* a copy of the image shown */
  gboolean shown_final;
  GdkTexture *texture;
  guint n_live, n_dropped;

  GtkPicture *actmax_picture;
  GtkSpinner *actmax_spinner;
  GtkLabel *actmax_status;
  GtkAdjustment *steps_adjustment, *lr_adjustment, *jitter_adjustment, *scale_adjustment,
                *rotation_adjustment, *decay_adjustment, *seed_adjustment;
  GtkDropDown *param_dropdown;
};

enum { IMAGE_READY, PARAMS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsUnitActmax, cs_unit_actmax, CS_TYPE_UNIT_PANEL)

static void
set_loading (CsUnitActmax *self, gboolean loading)
{
  gtk_spinner_set_spinning (self->actmax_spinner, loading);
  cs_unit_panel_set_loading (CS_UNIT_PANEL (self), loading);
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
actmax_key (CsUnitActmax *self, int epoch, int layer, int unit)
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

const CsUnitImage *
cs_unit_actmax_lookup (CsUnitActmax *self, int epoch, int layer, int unit)
{
  g_autofree char *key = actmax_key (self, epoch, layer, unit);

  return g_hash_table_lookup (self->cache, key);
}

void
cs_unit_actmax_cache_take (CsUnitActmax *self, CsUnitImage *image)
{
  g_hash_table_insert (self->cache, actmax_key (self, image->epoch, image->layer, image->unit), image);
}

static void
show_actmax (CsUnitActmax *self, const CsUnitImage *image, gboolean final, int step, int steps)
{
  g_autofree char *status = NULL;

  g_clear_pointer (&self->shown, cs_unit_image_free);
  g_clear_object (&self->texture);
  if (image != NULL)
    {
      self->shown = unit_image_copy (image);
      self->texture = cs_unit_image_texture (image, ACTMAX_SIZE);
    }
  self->shown_final = final;
  gtk_picture_set_paintable (self->actmax_picture, GDK_PAINTABLE (self->texture));
  if (image == NULL)
    status = g_strdup ("");
  else if (final)
    {
      char time[32];
      cs_format_duration (image->seconds, time, sizeof time);
      status = g_strdup_printf (_("mean activation %.3g · %s"), image->activation, time);
    }
  else
    status = g_strdup_printf (_("step %d / %d · mean activation %.3g"), step, steps, image->activation);
  cs_unit_label_set_text (self->actmax_status, status);
}

static gboolean
actmax_step_idle (gpointer data)
{
  CsActmaxJob *job = data;
  g_autoptr (CsUnitActmax) self = g_weak_ref_get (&job->owner);
  CsUnitImage *image;
  int step, steps;

  if (self == NULL || job->generation != self->serial || !cs_unit_panel_get_loading (CS_UNIT_PANEL (self)))
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
  g_autoptr (CsUnitActmax) self = user_data;
  g_autoptr (GError) error = NULL;
  CsUnitImage *image = cs_worker_finish (CS_WORKER (source), result, &error);

  if (image == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      self->n_dropped++;
      return;
    }
  set_loading (self, FALSE);
  if (image == NULL)
    {
      cs_unit_label_set_text (self->actmax_status, error->message);
      return;
    }
  cs_unit_actmax_cache_take (self, image);
  if (image->epoch == self->epoch && image->layer == self->layer && image->unit == self->unit)
    show_actmax (self, image, TRUE, 0, 0);
  g_signal_emit (self, signals[IMAGE_READY], 0, image);
}

static void
start_actmax (CsUnitActmax *self)
{
  const CsUnitImage *cached = cs_unit_actmax_lookup (self, self->epoch, self->layer, self->unit);
  CsActmaxJob *job;

  if (cached != NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      set_loading (self, FALSE);
      show_actmax (self, cached, TRUE, 0, 0);
      g_signal_emit (self, signals[IMAGE_READY], 0, cached);
      return;
    }
  /* Keep the previous epoch's image of the same unit until the first step arrives: it is
   * usually close, and the picture does not flash. */
  if (self->shown != NULL && (self->shown->layer != self->layer || self->shown->unit != self->unit))
    show_actmax (self, NULL, FALSE, 0, 0);
  job = cs_actmax_job_new (self->set, self->epoch, self->layer, self->unit, &self->params);
  job->generation = ++self->serial;
  job->on_step = actmax_step_idle;
  g_weak_ref_set (&job->owner, self);
  set_loading (self, TRUE);
  cs_unit_label_set_text (self->actmax_status, _("starting…"));
  cs_worker_run (cs_session_get_worker (self->session), self->channel, FALSE,
                 cs_actmax_job_run, job, cs_actmax_job_unref, cs_unit_image_free, actmax_done,
                 g_object_ref (self));
}

void
cs_unit_actmax_set_session (CsUnitActmax *self, CsSession *session)
{
  g_set_object (&self->session, session);
}

void
cs_unit_actmax_reset (CsUnitActmax *self, CsModelSet *set)
{
  if (self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
  g_hash_table_remove_all (self->cache);
  g_clear_pointer (&self->shown, cs_unit_image_free);
  g_clear_pointer (&self->set, cs_model_set_unref);
  set_loading (self, FALSE);
  self->layer = self->unit = self->epoch = -1;
  if (set != NULL)
    self->set = cs_model_set_ref (set);
}

void
cs_unit_actmax_select (CsUnitActmax *self, int epoch, int layer, int unit)
{
  if (layer < 0)
    {
      if (self->session != NULL)
        cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      set_loading (self, FALSE);
      self->layer = self->unit = -1;
      return;
    }
  self->epoch = epoch;
  self->layer = layer;
  self->unit = unit;
  start_actmax (self);
}

/* Parameters. */

static void
params_to_widgets (CsUnitActmax *self)
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

/* New parameters make new images: the evolution panel starts over first. */
static void
params_apply (CsUnitActmax *self)
{
  if (self->layer < 0)
    return;
  g_signal_emit (self, signals[PARAMS_CHANGED], 0);
  start_actmax (self);
}

static gboolean
params_timeout_cb (gpointer user_data)
{
  CsUnitActmax *self = user_data;

  self->params_timeout = 0;
  params_apply (self);
  return G_SOURCE_REMOVE;
}

static void
params_changed_cb (CsUnitActmax *self)
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
restart_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_unit_actmax_restart (CS_UNIT_ACTMAX (widget));
}

static void
stop_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsUnitActmax *self = CS_UNIT_ACTMAX (widget);

  if (!cs_unit_panel_get_loading (CS_UNIT_PANEL (self)) || self->session == NULL)
    return;
  cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
  set_loading (self, FALSE);
  cs_unit_label_set_text (self->actmax_status, _("stopped"));
}

static void
reset_params_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_unit_actmax_set_params (CS_UNIT_ACTMAX (widget), &CS_ACTMAX_PARAMS_DEFAULT);
}

void
cs_unit_actmax_restart (CsUnitActmax *self)
{
  g_autofree char *key = NULL;

  if (self->layer < 0)
    return;
  key = actmax_key (self, self->epoch, self->layer, self->unit);
  g_hash_table_remove (self->cache, key);
  show_actmax (self, NULL, FALSE, 0, 0);
  start_actmax (self);
}

void
cs_unit_actmax_get_params (CsUnitActmax *self, cs_actmax_params *params)
{
  *params = self->params;
}

void
cs_unit_actmax_set_params (CsUnitActmax *self, const cs_actmax_params *params)
{
  self->params = *params;
  params_to_widgets (self);
  g_clear_handle_id (&self->params_timeout, g_source_remove);
  params_apply (self);
}

gboolean
cs_unit_actmax_get_loading (CsUnitActmax *self)
{
  return cs_unit_panel_get_loading (CS_UNIT_PANEL (self));
}

GdkTexture *
cs_unit_actmax_get_texture (CsUnitActmax *self)
{
  return self->texture;
}

const float *
cs_unit_actmax_get_image (CsUnitActmax *self, int *epoch, int *layer, int *unit, int *c, int *h,
                          int *w, gboolean *final)
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
cs_unit_actmax_get_n_live_updates (CsUnitActmax *self)
{
  return self->n_live;
}

guint
cs_unit_actmax_get_n_dropped (CsUnitActmax *self)
{
  return self->n_dropped;
}

static void
cs_unit_actmax_dispose (GObject *object)
{
  CsUnitActmax *self = CS_UNIT_ACTMAX (object);

  g_clear_handle_id (&self->params_timeout, g_source_remove);
  cs_unit_actmax_reset (self, NULL);
  g_clear_object (&self->session);
  g_clear_object (&self->texture);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_ACTMAX);
  G_OBJECT_CLASS (cs_unit_actmax_parent_class)->dispose (object);
}

static void
cs_unit_actmax_finalize (GObject *object)
{
  CsUnitActmax *self = CS_UNIT_ACTMAX (object);

  g_hash_table_unref (self->cache);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->shown, cs_unit_image_free);
  G_OBJECT_CLASS (cs_unit_actmax_parent_class)->finalize (object);
}

static void
cs_unit_actmax_class_init (CsUnitActmaxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_unit_actmax_dispose;
  object_class->finalize = cs_unit_actmax_finalize;
  signals[IMAGE_READY] = g_signal_new ("image-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[PARAMS_CHANGED] = g_signal_new ("params-changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-actmax.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, actmax_picture);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, actmax_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, actmax_status);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, steps_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, lr_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, jitter_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, scale_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, rotation_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, decay_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsUnitActmax, param_dropdown);
  gtk_widget_class_install_action (widget_class, "unit.restart", NULL, restart_action);
  gtk_widget_class_install_action (widget_class, "unit.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "unit.reset-params", NULL, reset_params_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitactmax");
}

static void
cs_unit_actmax_init (CsUnitActmax *self)
{
  GtkAdjustment *adjustments[7];

  gtk_widget_init_template (GTK_WIDGET (self));
  cs_unit_channel_init (self->channel, sizeof self->channel, "actmax");
  self->layer = self->unit = self->epoch = -1;
  self->params = CS_ACTMAX_PARAMS_DEFAULT;
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cs_unit_image_free);
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
}
