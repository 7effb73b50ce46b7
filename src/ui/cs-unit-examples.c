/* CsUnitExamples: one top-k search per (epoch, layer, split) on the worker, cached; every unit
 * of the layer is answered by the same search. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-unit-examples.h"
#include "cs-unit-jobs.h"
#include "cs-unit-panel.h"
#include "base/duration.h"

#define N_TOP 9
#define TOP_SIZE 50

struct _CsUnitExamples
{
  CsUnitPanel parent_instance;
  CsSession *session;
  CsModelSet *set;
  char channel[40];
  int epoch, layer, unit;

  char *dataset_spec;
  CsDatasetRef *dataset;
  gboolean train_split;
  GHashTable *cache;           /* "epoch:layer:split" -> CsTopkResult */
  CsTopkJob *job;              /* the running job's data (the worker owns it) */
  guint64 serial;
  guint timer;
  guint n_top;

  GtkDropDown *split_dropdown;
  GtkFlowBox *topk_box;
  GtkProgressBar *topk_progress;
  GtkLabel *topk_status;
};


G_DEFINE_FINAL_TYPE (CsUnitExamples, cs_unit_examples, CS_TYPE_UNIT_PANEL)

static char *
topk_key (int epoch, int layer, gboolean train)
{
  return g_strdup_printf ("%d:%d:%d", epoch, layer, train);
}

static void
show_topk (CsUnitExamples *self, const CsTopkResult *r)
{
  const cs_top_example *ex;
  int32_t count = 0;
  g_autofree char *status = NULL;
  char time[32];

  cs_unit_flow_box_clear (self->topk_box);
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
      g_autofree char *full_tip = NULL;

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
      /* The caption is ellipsized to the picture: the tooltip starts with it in full. */
      gtk_widget_set_tooltip_text (cell, full_tip = g_strconcat (text, "\n", tip, NULL));
      gtk_box_append (GTK_BOX (cell), picture);
      gtk_box_append (GTK_BOX (cell), caption);
      gtk_widget_add_css_class (cell, "unit-example");
      gtk_flow_box_append (self->topk_box, cell);
      self->n_top++;
    }
  /* The examples fill the column: how they were found goes into a tooltip. */
  cs_format_duration (r->topk.seconds, time, sizeof time);
  status = g_strdup_printf (_("%lld images searched in %s"), (long long) r->topk.n_images, time);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->topk_box), status);
  gtk_widget_set_visible (GTK_WIDGET (self->topk_status), self->n_top == 0);
  cs_unit_label_set_text (self->topk_status, self->n_top == 0 ? _("No examples") : "");
}

static void
topk_message (CsUnitExamples *self, const char *text)
{
  cs_unit_label_set_text (self->topk_status, text);
  gtk_widget_set_visible (GTK_WIDGET (self->topk_status), TRUE);
}

static gboolean
timer_cb (gpointer user_data)
{
  CsUnitExamples *self = user_data;

  if (self->job != NULL)
    gtk_progress_bar_set_fraction (self->topk_progress,
                                   g_atomic_int_get (&self->job->permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static void
set_loading (CsUnitExamples *self, gboolean loading)
{
  gtk_widget_set_visible (GTK_WIDGET (self->topk_progress), loading);
  if (loading && self->timer == 0)
    self->timer = g_timeout_add (100, timer_cb, self);
  else if (!loading)
    {
      g_clear_handle_id (&self->timer, g_source_remove);
      self->job = NULL;
    }
  cs_unit_panel_set_loading (CS_UNIT_PANEL (self), loading);
}

static void
topk_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint64 serial;
  g_autoptr (CsUnitExamples) self = cs_unit_call_steal (user_data, &serial);
  g_autoptr (GError) error = NULL;
  CsTopkResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  gboolean current = serial == self->serial;

  if (r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (current)
    set_loading (self, FALSE);
  if (r == NULL)
    {
      if (current)
        topk_message (self, error->message);
      return;
    }
  g_hash_table_insert (self->cache, topk_key (r->epoch, r->layer, r->train_split), r);
  if (current)
    show_topk (self, r);
}

static void
start_topk (CsUnitExamples *self)
{
  g_autofree char *key = NULL;
  CsTopkResult *cached;
  CsTopkJob *job;

  if (self->dataset == NULL)
    {
      cs_unit_flow_box_clear (self->topk_box);
      self->n_top = 0;
      topk_message (self, cs_model_set_get_run (self->set) != NULL
                    ? _("The run names no data set (run.json “dataset”)")
                    : _("Open a training run to see its data set's top examples"));
      return;
    }
  key = topk_key (self->epoch, self->layer, self->train_split);
  cached = g_hash_table_lookup (self->cache, key);
  self->serial++;
  if (cached != NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      set_loading (self, FALSE);
      show_topk (self, cached);
      return;
    }
  cs_unit_flow_box_clear (self->topk_box);
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
  set_loading (self, TRUE);
  self->job = job;
  cs_worker_run (cs_session_get_worker (self->session), self->channel, TRUE, cs_topk_job_run,
                 job, cs_topk_job_free, cs_topk_result_free_all, topk_done,
                 cs_unit_call_new (self, self->serial));
}

void
cs_unit_examples_set_session (CsUnitExamples *self, CsSession *session)
{
  g_set_object (&self->session, session);
}

void
cs_unit_examples_reset (CsUnitExamples *self, CsModelSet *set)
{
  if (self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
  g_hash_table_remove_all (self->cache);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->dataset, cs_dataset_ref_unref);
  g_clear_pointer (&self->dataset_spec, g_free);
  set_loading (self, FALSE);
  self->layer = self->unit = self->epoch = -1;
  if (set == NULL)
    return;
  self->set = cs_model_set_ref (set);
  self->dataset_spec = cs_dataset_spec_for_run (cs_model_set_get_run (set));
  if (self->dataset_spec != NULL)
    self->dataset = cs_dataset_ref_new (self->dataset_spec);
}

void
cs_unit_examples_select (CsUnitExamples *self, int epoch, int layer, int unit)
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
  start_topk (self);
}

gboolean
cs_unit_examples_get_loading (CsUnitExamples *self)
{
  return cs_unit_panel_get_loading (CS_UNIT_PANEL (self));
}

guint
cs_unit_examples_get_n_examples (CsUnitExamples *self)
{
  return self->n_top;
}

const char *
cs_unit_examples_get_dataset_spec (CsUnitExamples *self)
{
  return self->dataset_spec;
}

void
cs_unit_examples_set_train_split (CsUnitExamples *self, gboolean train)
{
  if (self->train_split == !!train)
    return;
  self->train_split = !!train;
  if (gtk_drop_down_get_selected (self->split_dropdown) != (guint) self->train_split)
    gtk_drop_down_set_selected (self->split_dropdown, self->train_split);
  if (self->layer >= 0)
    start_topk (self);
}

static void
split_changed_cb (CsUnitExamples *self)
{
  cs_unit_examples_set_train_split (self, gtk_drop_down_get_selected (self->split_dropdown) == 1);
}

static void
cs_unit_examples_dispose (GObject *object)
{
  CsUnitExamples *self = CS_UNIT_EXAMPLES (object);

  cs_unit_examples_reset (self, NULL);
  g_clear_handle_id (&self->timer, g_source_remove);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_EXAMPLES);
  G_OBJECT_CLASS (cs_unit_examples_parent_class)->dispose (object);
}

static void
cs_unit_examples_finalize (GObject *object)
{
  CsUnitExamples *self = CS_UNIT_EXAMPLES (object);

  g_hash_table_unref (self->cache);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->dataset, cs_dataset_ref_unref);
  g_free (self->dataset_spec);
  G_OBJECT_CLASS (cs_unit_examples_parent_class)->finalize (object);
}

static void
cs_unit_examples_class_init (CsUnitExamplesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_unit_examples_dispose;
  object_class->finalize = cs_unit_examples_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-examples.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitExamples, split_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsUnitExamples, topk_box);
  gtk_widget_class_bind_template_child (widget_class, CsUnitExamples, topk_progress);
  gtk_widget_class_bind_template_child (widget_class, CsUnitExamples, topk_status);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitexamples");
}

static void
cs_unit_examples_init (CsUnitExamples *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  cs_unit_channel_init (self->channel, sizeof self->channel, "topk");
  self->layer = self->unit = self->epoch = -1;
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cs_topk_result_free_all);
  g_signal_connect_swapped (self->split_dropdown, "notify::selected", G_CALLBACK (split_changed_cb), self);
}
