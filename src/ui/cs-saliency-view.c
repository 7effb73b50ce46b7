/* CsSaliencyView: prediction and the overlay's attribution job on the worker; the map is kept
 * as floats so that colormap and opacity changes recolour it without recomputing. The
 * comparison grid (cs-saliency-compare.c) shows each sampling method's best-so-far map as it
 * refines, until the method finishes or its time budget runs out. */
#include "config.h"

#include <math.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "cs-jobs.h"
#include "cs-saliency-view-private.h"
#include "base/duration.h"

enum { PROP_0, PROP_SESSION, PROP_COLORMAP, PROP_OPACITY, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsSaliencyView, cs_saliency_view, GTK_TYPE_WIDGET)

static void
set_loading (CsSaliencyView *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  gtk_spinner_set_spinning (self->spinner, loading);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
recolor (CsSaliencyView *self)
{
  g_clear_object (&self->overlay);
  if (self->map != NULL)
    self->overlay = cs_colormap_texture (self->colormap, self->map, self->map_width,
                                         self->map_height, 0.0f, 1.0f, TRUE);
  gtk_picture_set_paintable (self->map_picture, GDK_PAINTABLE (self->overlay));
  cs_colorbar_set_colormap (self->colorbar, self->colormap);
  gtk_widget_set_visible (GTK_WIDGET (self->colorbar), self->map != NULL);

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    cs_saliency_panel_recolor (&self->panels[m], self->colormap);
}

static const char *
class_label (CsSaliencyView *self, int k, char *buf, gsize size)
{
  CsModelSet *set = cs_session_get_model_set (self->session);

  return set != NULL ? cs_model_set_get_class_label (set, k, buf, size) : "?";
}

static void
saliency_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsSaliencyView) self = user_data;
  g_autoptr (GError) error = NULL;
  CsSaliencyResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  char buf[64];
  g_autofree char *info = NULL;

  if (r == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_loading (self, FALSE);
      g_clear_pointer (&self->map, g_free);
      self->map_method = -1;
      recolor (self);
      gtk_label_set_text (self->info_label, error->message);
      return;
    }
  g_free (self->map);
  self->map = g_steal_pointer (&r->map);
  self->map_width = r->width;
  self->map_height = r->height;
  self->map_method = r->method;
  self->map_target = r->target;
  self->map_layer = r->layer;
  recolor (self);

  {
    CsModelSet *set = cs_session_get_model_set (self->session);
    const char *layer = r->layer >= 0 && set != NULL
                        ? cs_model_set_get_graph (set)->nodes[r->layer].name : NULL;
    char time[32];
    cs_format_duration (r->seconds, time, sizeof time);
    if (r->unit_layer >= 0 && set != NULL)
      info = g_strdup_printf (_("%s of unit %d of %s%s%s · %s"), cs_ui_method_title (r->method),
                              r->unit_channel, cs_model_set_get_graph (set)->nodes[r->unit_layer].name,
                              layer != NULL ? _(" at layer ") : "", layer != NULL ? layer : "", time);
    else
      info = g_strdup_printf (_("%s of “%s” (p = %.1f %%)%s%s · %s"),
                              cs_ui_method_title (r->method), class_label (self, r->target, buf, sizeof buf),
                              100.0 * r->probability, layer != NULL ? _(" at layer ") : "",
                              layer != NULL ? layer : "", time);
  }
  {
    /* A CAM whose every position is negative before the ReLU is legitimately empty; say so,
     * rather than leave the user looking for an overlay that is not there. */
    gboolean empty = TRUE;
    for (int i = 0; empty && i < self->map_width * self->map_height; i++)
      empty = self->map[i] == 0.0f;
    if (empty)
      {
        char *with_note = g_strconcat (info, _(" · the map is zero everywhere: nothing at this layer "
                                               "speaks for this class"), NULL);
        g_free (info);
        info = with_note;
      }
  }
  gtk_label_set_text (self->info_label, info);
  cs_saliency_result_free (r);
  set_loading (self, FALSE);
}

static void
run_saliency (CsSaliencyView *self)
{
  CsSaliencyJob *job;

  if (self->session == NULL)
    return;
  job = cs_saliency_job_new (self->session, cs_session_get_method (self->session),
                             cs_session_get_target (self->session));
  if (job == NULL)
    return;
  /* The overlay's method within the same budget as the grid's, without partial maps. */
  cs_saliency_job_set_refine (job, cs_session_get_attribution_budget (self->session), NULL, NULL, 0);
  set_loading (self, TRUE);
  cs_worker_run (cs_session_get_worker (self->session), self->saliency_channel, FALSE,
                 cs_saliency_job_run, job, cs_saliency_job_free, cs_saliency_result_free,
                 saliency_done, g_object_ref (self));
}

static gboolean
comparison_visible (CsSaliencyView *self)
{
  return g_strcmp0 (adw_view_stack_get_visible_child_name (self->stack), "compare") == 0;
}

/* The inputs of every map changed: recompute what is visible, mark the rest stale. */
static void
maps_invalidated (CsSaliencyView *self)
{
  run_saliency (self);
  if (comparison_visible (self))
    cs_saliency_compare_run (self);
  else
    {
      /* Hidden panels are recomputed when the grid is shown again. */
      self->compare_stale = TRUE;
      for (int m = 0; m < CS_METHOD_COUNT; m++)
        {
          char channel[64];
          g_snprintf (channel, sizeof channel, "%s%d", self->compare_prefix, m);
          cs_worker_cancel (cs_session_get_worker (self->session), channel);
        }
    }
}

static void
visible_page_cb (CsSaliencyView *self)
{
  if (comparison_visible (self) && self->compare_stale)
    cs_saliency_compare_run (self);
}

void
cs_saliency_view_show_comparison (CsSaliencyView *self, gboolean compare)
{
  adw_view_stack_set_visible_child_name (self->stack, compare ? "compare" : "overlay");
}

/* Predictions: the target dropdown lists the top classes with their probabilities. */

static void
sync_target_dropdown (CsSaliencyView *self)
{
  int target = self->session != NULL ? cs_session_get_target (self->session) : -1;
  guint pos = 0;

  for (guint i = 1; i <= N_TOP; i++)
    if (self->target_classes[i] == target && target >= 0)
      pos = i;
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->target_dropdown, pos);
  self->updating = FALSE;
}

static void
show_no_prediction (CsSaliencyView *self, const char *why)
{
  const char *strings[] = { _("Predicted: —"), NULL };

  self->predicted = -1;
  self->predicted_probability = 0;
  for (guint i = 1; i <= N_TOP; i++)
    self->target_classes[i] = -1;
  self->updating = TRUE;
  gtk_string_list_splice (self->targets, 0, g_list_model_get_n_items (G_LIST_MODEL (self->targets)),
                          strings);
  gtk_drop_down_set_selected (self->target_dropdown, 0);
  self->updating = FALSE;
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->target_dropdown), why);
}

static void
predict_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsSaliencyView) self = user_data;
  g_autoptr (GError) error = NULL;
  CsPredictResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  int top[N_TOP];
  int n;
  char buf[64];

  if (r == NULL)
    {
      /* An epoch that cannot predict (unreadable or non-finite weights, overflowing outputs)
       * must not keep showing another epoch's prediction: a dash, the reason in the tooltip. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_no_prediction (self, error->message);
      return;
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->target_dropdown), NULL);
  n = MIN (N_TOP, r->n_classes);
  cs_predict_result_top (r, 0, n, top);
  self->predicted = top[0];
  self->predicted_probability = r->probs[top[0]];
  g_ptr_array_add (strings, g_strdup_printf (_("Predicted: %s (%.1f %%)"),
                                             class_label (self, top[0], buf, sizeof buf),
                                             100.0 * r->probs[top[0]]));
  for (int i = 0; i < n; i++)
    {
      self->target_classes[i + 1] = top[i];
      g_ptr_array_add (strings, g_strdup_printf ("%s — %.1f %%", class_label (self, top[i], buf, sizeof buf),
                                                 100.0 * r->probs[top[i]]));
    }
  for (int i = n + 1; i <= N_TOP; i++)
    self->target_classes[i] = -1;
  g_ptr_array_add (strings, NULL);

  self->updating = TRUE;
  gtk_string_list_splice (self->targets, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->targets)),
                          (const char *const *) strings->pdata);
  self->updating = FALSE;
  sync_target_dropdown (self);
  cs_predict_result_free (r);
}

static void
run_predict (CsSaliencyView *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  g_autoptr (GBytes) input = NULL;
  cs_shape shape;

  if (set == NULL || (input = cs_session_dup_input_bytes (self->session, &shape)) == NULL)
    return;
  cs_worker_run (cs_session_get_worker (self->session), self->predict_channel, FALSE,
                 cs_predict_job_run,
                 cs_predict_job_new (set, cs_session_get_epoch (self->session), input, &shape, 1),
                 cs_predict_job_free, cs_predict_result_free, predict_done, g_object_ref (self));
}

static void
image_changed (CsSaliencyView *self)
{
  GdkTexture *image = cs_session_get_image (self->session);
  CsModelSet *set = cs_session_get_model_set (self->session);

  gtk_picture_set_paintable (self->image_picture, GDK_PAINTABLE (image));
  if (set != NULL)
    {
      const cs_model *m = cs_model_set_get_base (set);
      gtk_aspect_frame_set_ratio (self->aspect, (float) m->width / (float) MAX (m->height, 1));
    }
}

static void
inputs_changed_cb (CsSession *session, GParamSpec *pspec, CsSaliencyView *self)
{
  image_changed (self);
  run_predict (self);
  maps_invalidated (self);
}

static void
selection_changed_cb (CsSession *session, GParamSpec *pspec, CsSaliencyView *self)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->method_dropdown, cs_session_get_method (session));
  self->updating = FALSE;
  sync_target_dropdown (self);
  if (g_strcmp0 (pspec->name, "method") == 0)
    run_saliency (self);  /* the other panels of the grid do not depend on the method */
  else
    maps_invalidated (self);
}

/* The explained unit matters only while the session explains units. */
static void
unit_changed_cb (CsSession *session, GParamSpec *pspec, CsSaliencyView *self)
{
  if (cs_session_get_explain_unit (session) || g_strcmp0 (pspec->name, "explain-unit") == 0)
    maps_invalidated (self);
}

static void
params_changed_cb (CsSession *session, GParamSpec *pspec, CsSaliencyView *self)
{
  if (cs_session_get_model_set (session) != NULL)
    maps_invalidated (self);
}

static void
comparison_changed_cb (CsSession *session, GParamSpec *pspec, CsSaliencyView *self)
{
  cs_saliency_compare_ensure_panels (self);
  if (comparison_visible (self))
    cs_saliency_compare_run (self);
}

static void
method_selected_cb (CsSaliencyView *self)
{
  if (!self->updating && self->session != NULL)
    cs_session_set_method (self->session, (int) gtk_drop_down_get_selected (self->method_dropdown));
}

static void
target_selected_cb (CsSaliencyView *self)
{
  guint pos = gtk_drop_down_get_selected (self->target_dropdown);

  if (!self->updating && self->session != NULL && pos <= N_TOP)
    cs_session_set_target (self->session, pos == 0 ? -1 : self->target_classes[pos]);
}

static void
colormap_selected_cb (CsSaliencyView *self)
{
  cs_colormap c = gtk_drop_down_get_selected (self->colormap_dropdown);

  if (c < CS_COLORMAP_COUNT && c != self->colormap)
    {
      self->colormap = c;
      recolor (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLORMAP]);
    }
}

static void
opacity_changed_cb (CsSaliencyView *self)
{
  double v = gtk_adjustment_get_value (self->opacity_adjustment);

  gtk_widget_set_opacity (GTK_WIDGET (self->map_picture), v);
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    if (self->panels[m].root != NULL)
      gtk_widget_set_opacity (self->panels[m].map, v);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPACITY]);
}

CsSession *
cs_saliency_view_get_session (CsSaliencyView *self)
{
  return self->session;
}

void
cs_saliency_view_set_session (CsSaliencyView *self, CsSession *session)
{
  static const char *const inputs[] = { "notify::model-set", "notify::epoch", "notify::image" };
  static const char *const selection[] = { "notify::method", "notify::target", "notify::layer" };
  static const char *const params[] = { "notify::smoothgrad-samples", "notify::smoothgrad-noise",
                                        "notify::ig-steps", "notify::occlusion-window",
                                        "notify::occlusion-stride", "notify::rise-samples",
                                        "notify::attribution-budget" };

  g_return_if_fail (CS_IS_SALIENCY_VIEW (self));
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
        g_signal_connect_object (session, inputs[i], G_CALLBACK (inputs_changed_cb), self, 0);
      for (guint i = 0; i < G_N_ELEMENTS (selection); i++)
        g_signal_connect_object (session, selection[i], G_CALLBACK (selection_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::comparison", G_CALLBACK (comparison_changed_cb),
                               self, 0);
      for (guint i = 0; i < G_N_ELEMENTS (params); i++)
        g_signal_connect_object (session, params[i], G_CALLBACK (params_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::unit", G_CALLBACK (unit_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::explain-unit", G_CALLBACK (unit_changed_cb), self, 0);
      self->updating = TRUE;
      gtk_drop_down_set_selected (self->method_dropdown, cs_session_get_method (session));
      self->updating = FALSE;
      cs_saliency_compare_ensure_panels (self);
      if (cs_session_get_model_set (session) != NULL)
        inputs_changed_cb (session, NULL, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

GdkTexture *
cs_saliency_view_get_overlay (CsSaliencyView *self)
{
  return self->overlay;
}

int
cs_saliency_view_get_overlay_method (CsSaliencyView *self)
{
  return self->map != NULL ? self->map_method : -1;
}

gboolean
cs_saliency_view_get_loading (CsSaliencyView *self)
{
  return self->loading;
}

guint
cs_saliency_view_get_n_compared (CsSaliencyView *self)
{
  return self->n_compared;
}

static void
cs_saliency_view_dispose (GObject *object)
{
  CsSaliencyView *self = CS_SALIENCY_VIEW (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      g_clear_pointer (&self->panels[m].values, g_free);
      g_clear_pointer (&self->panels[m].error, g_free);
      self->panels[m].root = NULL;
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_SALIENCY_VIEW);
  g_clear_object (&self->overlay);
  g_clear_pointer (&self->map, g_free);
  G_OBJECT_CLASS (cs_saliency_view_parent_class)->dispose (object);
}

static void
cs_saliency_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsSaliencyView *self = CS_SALIENCY_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    case PROP_COLORMAP: g_value_set_string (value, cs_colormap_name (self->colormap)); break;
    case PROP_OPACITY: g_value_set_double (value, gtk_adjustment_get_value (self->opacity_adjustment)); break;
    case PROP_LOADING: g_value_set_boolean (value, self->loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_saliency_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  CsSaliencyView *self = CS_SALIENCY_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: cs_saliency_view_set_session (self, g_value_get_object (value)); break;
    case PROP_COLORMAP:
      gtk_drop_down_set_selected (self->colormap_dropdown,
                                  cs_colormap_from_id (g_value_get_string (value)));
      break;
    case PROP_OPACITY: gtk_adjustment_set_value (self->opacity_adjustment, g_value_get_double (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_saliency_view_class_init (CsSaliencyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cs_saliency_view_dispose;
  object_class->get_property = cs_saliency_view_get_property;
  object_class->set_property = cs_saliency_view_set_property;

  properties[PROP_SESSION] = g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION, rw);
  properties[PROP_COLORMAP] = g_param_spec_string ("colormap", NULL, NULL, "inferno", rw);
  properties[PROP_OPACITY] = g_param_spec_double ("opacity", NULL, NULL, 0, 1, 0.6, rw);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (ADW_TYPE_VIEW_STACK);
  g_type_ensure (CS_TYPE_COLORBAR);
  g_type_ensure (CS_TYPE_COMPARE_GRID);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-saliency-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, box);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, spinner);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, method_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, target_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, stack);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, aspect);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, image_picture);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, map_picture);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, colorbar);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, info_label);
  gtk_widget_class_bind_template_child (widget_class, CsSaliencyView, compare_box);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cssaliencyview");
}

static void
cs_saliency_view_init (CsSaliencyView *self)
{
  static guint counter;
  g_autoptr (GtkStringList) methods = gtk_string_list_new (NULL);
  g_autoptr (GtkStringList) colormaps = gtk_string_list_new (NULL);
  guint id = ++counter;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_snprintf (self->predict_channel, sizeof self->predict_channel, "predict-%u", id);
  g_snprintf (self->saliency_channel, sizeof self->saliency_channel, "saliency-%u", id);
  g_snprintf (self->compare_prefix, sizeof self->compare_prefix, "compare-%u-", id);
  self->map_method = -1;
  self->predicted = -1;
  self->compare_stale = TRUE;
  for (int i = 0; i <= N_TOP; i++)
    self->target_classes[i] = -1;

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    gtk_string_list_append (methods, cs_ui_method_title (m));
  gtk_drop_down_set_model (self->method_dropdown, G_LIST_MODEL (methods));
  for (int c = 0; c < CS_COLORMAP_COUNT; c++)
    gtk_string_list_append (colormaps, cs_colormap_title (c));
  gtk_drop_down_set_model (self->colormap_dropdown, G_LIST_MODEL (colormaps));
  self->colormap = CS_COLORMAP_INFERNO;
  gtk_drop_down_set_selected (self->colormap_dropdown, self->colormap);
  self->targets = gtk_string_list_new ((const char *const[]) { _("Predicted class"), NULL });
  gtk_drop_down_set_model (self->target_dropdown, G_LIST_MODEL (self->targets));
  g_object_unref (self->targets);  /* the dropdown keeps it */

  gtk_widget_set_opacity (GTK_WIDGET (self->map_picture), 0.6);
  cs_colorbar_set_match (self->colorbar, GTK_WIDGET (self->image_picture));
  gtk_widget_set_visible (GTK_WIDGET (self->colorbar), FALSE);
  g_signal_connect_swapped (self->method_dropdown, "notify::selected", G_CALLBACK (method_selected_cb), self);
  g_signal_connect_swapped (self->target_dropdown, "notify::selected", G_CALLBACK (target_selected_cb), self);
  g_signal_connect_swapped (self->colormap_dropdown, "notify::selected", G_CALLBACK (colormap_selected_cb), self);
  g_signal_connect_swapped (self->opacity_adjustment, "value-changed", G_CALLBACK (opacity_changed_cb), self);
  g_signal_connect_swapped (self->stack, "notify::visible-child-name", G_CALLBACK (visible_page_cb), self);
}

GtkWidget *
cs_saliency_view_new (CsSession *session)
{
  return g_object_new (CS_TYPE_SALIENCY_VIEW, "session", session, NULL);
}

gboolean
cs_saliency_view_get_comparison_shown (CsSaliencyView *self)
{
  return comparison_visible (self);
}

cs_colormap
cs_saliency_view_get_colormap (CsSaliencyView *self)
{
  return self->colormap;
}

double
cs_saliency_view_get_opacity (CsSaliencyView *self)
{
  return gtk_adjustment_get_value (self->opacity_adjustment);
}

gboolean
cs_saliency_view_get_prediction (CsSaliencyView *self, int *klass, float *probability)
{
  *klass = self->predicted;
  *probability = self->predicted_probability;
  return self->predicted >= 0;
}

const float *
cs_saliency_view_get_map (CsSaliencyView *self, int *width, int *height, int *target, int *layer)
{
  *width = self->map_width;
  *height = self->map_height;
  *target = self->map_target;
  *layer = self->map_layer;
  return self->map;
}

const float *
cs_saliency_view_get_panel (CsSaliencyView *self, int method, int *width, int *height,
                            double *seconds, const char **error)
{
  const Panel *p;

  g_return_val_if_fail (method >= 0 && method < CS_METHOD_COUNT, NULL);
  p = &self->panels[method];
  *width = p->width;
  *height = p->height;
  *seconds = p->seconds;
  *error = p->root != NULL ? p->error : NULL;
  return p->root != NULL ? p->values : NULL;
}

const char *
cs_saliency_view_get_panel_note (CsSaliencyView *self, int method)
{
  g_return_val_if_fail (method >= 0 && method < CS_METHOD_COUNT, NULL);
  return cs_saliency_panel_get_note (&self->panels[method]);
}

double
cs_saliency_view_get_panel_completed (CsSaliencyView *self, int method, guint *n_partials,
                                      gboolean *can_refine)
{
  const Panel *p;

  g_return_val_if_fail (method >= 0 && method < CS_METHOD_COUNT, 0);
  p = &self->panels[method];
  *n_partials = p->n_partials;
  *can_refine = p->root != NULL && gtk_widget_get_visible (p->refine);
  return p->root != NULL ? p->completed : 0;
}

double
cs_saliency_view_get_panel_resumable (CsSaliencyView *self, int method)
{
  g_return_val_if_fail (method >= 0 && method < CS_METHOD_COUNT, 0);
  return cs_resume_completed (self->panels[method].resume);
}
