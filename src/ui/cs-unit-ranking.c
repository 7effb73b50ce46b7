/* CsUnitRanking: one ranking job per pair of epochs on the worker; the newest pair wins. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-unit-jobs.h"
#include "cs-unit-panel.h"
#include "cs-unit-ranking.h"

#define N_RANKED 12

struct _CsUnitRanking
{
  CsUnitPanel parent_instance;
  CsSession *session;
  CsModelSet *set;
  char channel[40];
  int layer, unit;             /* highlighted */
  gboolean updating;           /* setting the drop-downs: no new ranking */

  GArray *ranked;              /* CsRankedFilter */
  guint64 serial;

  GtkDropDown *rank_from, *rank_to;
  GtkSpinner *rank_spinner;
  GtkFlowBox *rank_box;
};


G_DEFINE_FINAL_TYPE (CsUnitRanking, cs_unit_ranking, CS_TYPE_UNIT_PANEL)

static void
set_loading (CsUnitRanking *self, gboolean loading)
{
  gtk_spinner_set_spinning (self->rank_spinner, loading);
  cs_unit_panel_set_loading (CS_UNIT_PANEL (self), loading);
}

static void
ranked_clicked_cb (GtkButton *button, CsUnitRanking *self)
{
  cs_unit_ranking_activate (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index")));
}

static void
show_ranked (CsUnitRanking *self)
{
  const cs_graph *g;

  cs_unit_flow_box_clear (self->rank_box);
  if (self->set == NULL)
    return;
  g = cs_model_set_get_graph (self->set);
  for (guint i = 0; self->ranked != NULL && i < MIN (self->ranked->len, N_RANKED); i++)
    {
      const CsRankedFilter *f = &g_array_index (self->ranked, CsRankedFilter, i);
      g_autofree char *text = g_strdup_printf ("%u. %s #%d  %.0f %%", i + 1, g->nodes[f->node].name,
                                               f->unit, 100.0 * f->change);
      GtkWidget *button = gtk_button_new_with_label (text);

      gtk_widget_add_css_class (button, "flat");
      gtk_widget_add_css_class (button, "unit-ranked");
      if (self->layer >= 0 && f->node == cs_unit_weight_node (g, self->layer) && f->unit == self->unit)
        gtk_widget_add_css_class (button, "current");
      g_object_set_data (G_OBJECT (button), "index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (ranked_clicked_cb), self);
      gtk_flow_box_append (self->rank_box, button);
    }
}

static void
rank_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint64 serial;
  g_autoptr (CsUnitRanking) self = cs_unit_call_steal (user_data, &serial);
  g_autoptr (GError) error = NULL;
  GArray *ranked = cs_worker_finish (CS_WORKER (source), result, &error);

  if (serial != self->serial || (ranked == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_clear_pointer (&ranked, g_array_unref);
      return;
    }
  g_clear_pointer (&self->ranked, g_array_unref);
  self->ranked = ranked;
  show_ranked (self);
  set_loading (self, FALSE);
}

static void
start_rank (CsUnitRanking *self)
{
  CsRankJob *job;
  guint a = gtk_drop_down_get_selected (self->rank_from), b = gtk_drop_down_get_selected (self->rank_to);

  if (self->set == NULL || cs_model_set_get_n_epochs (self->set) < 2
      || a == GTK_INVALID_LIST_POSITION || b == GTK_INVALID_LIST_POSITION)
    return;
  job = g_new0 (CsRankJob, 1);
  job->set = cs_model_set_ref (self->set);
  job->epoch_a = (int) a;
  job->epoch_b = (int) b;
  self->serial++;
  set_loading (self, TRUE);
  cs_worker_run (cs_session_get_worker (self->session), self->channel, FALSE, cs_rank_job_run,
                 job, cs_rank_job_free, (GDestroyNotify) g_array_unref, rank_done,
                 cs_unit_call_new (self, self->serial));
}

static void
epochs_changed_cb (CsUnitRanking *self)
{
  if (!self->updating)
    start_rank (self);
}

void
cs_unit_ranking_set_session (CsUnitRanking *self, CsSession *session)
{
  g_set_object (&self->session, session);
}

void
cs_unit_ranking_reset (CsUnitRanking *self, CsModelSet *set)
{
  g_autoptr (GtkStringList) epochs = gtk_string_list_new (NULL);
  int n_epochs = set != NULL ? cs_model_set_get_n_epochs (set) : 0;

  if (self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
  g_clear_pointer (&self->ranked, g_array_unref);
  g_clear_pointer (&self->set, cs_model_set_unref);
  set_loading (self, FALSE);
  self->layer = self->unit = -1;
  if (set == NULL)
    return;
  self->set = cs_model_set_ref (set);
  for (int e = 0; e < n_epochs; e++)
    {
      char num[32];
      g_snprintf (num, sizeof num, _("epoch %d"), cs_model_set_get_epoch_number (set, e));
      gtk_string_list_append (epochs, num);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->rank_from, G_LIST_MODEL (epochs));
  gtk_drop_down_set_model (self->rank_to, G_LIST_MODEL (epochs));
  gtk_drop_down_set_selected (self->rank_from, 0);
  gtk_drop_down_set_selected (self->rank_to, MAX (n_epochs - 1, 0));
  self->updating = FALSE;
  cs_unit_flow_box_clear (self->rank_box);
  start_rank (self);
}

void
cs_unit_ranking_select (CsUnitRanking *self, int layer, int unit)
{
  if (layer == self->layer && unit == self->unit)
    return;
  self->layer = layer;
  self->unit = unit;
  if (self->ranked != NULL)
    show_ranked (self);
}

void
cs_unit_ranking_set_epochs (CsUnitRanking *self, int from, int to)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->rank_from, (guint) from);
  gtk_drop_down_set_selected (self->rank_to, (guint) to);
  self->updating = FALSE;
  start_rank (self);
}

gboolean
cs_unit_ranking_get_loading (CsUnitRanking *self)
{
  return cs_unit_panel_get_loading (CS_UNIT_PANEL (self));
}

guint
cs_unit_ranking_get_n_ranked (CsUnitRanking *self)
{
  return self->ranked != NULL ? self->ranked->len : 0;
}

gboolean
cs_unit_ranking_get_ranked (CsUnitRanking *self, guint i, int *node, int *unit, float *change)
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
cs_unit_ranking_activate (CsUnitRanking *self, guint i)
{
  int node, unit;
  float change;

  if (self->session == NULL || !cs_unit_ranking_get_ranked (self, i, &node, &unit, &change))
    return;
  /* Layer first: setting it clears the unit. */
  g_object_freeze_notify (G_OBJECT (self->session));
  cs_session_set_layer (self->session, node);
  cs_session_set_unit (self->session, unit);
  g_object_thaw_notify (G_OBJECT (self->session));
}

static void
cs_unit_ranking_dispose (GObject *object)
{
  CsUnitRanking *self = CS_UNIT_RANKING (object);

  cs_unit_ranking_reset (self, NULL);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_RANKING);
  G_OBJECT_CLASS (cs_unit_ranking_parent_class)->dispose (object);
}

static void
cs_unit_ranking_finalize (GObject *object)
{
  CsUnitRanking *self = CS_UNIT_RANKING (object);

  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->ranked, g_array_unref);
  G_OBJECT_CLASS (cs_unit_ranking_parent_class)->finalize (object);
}

static void
cs_unit_ranking_class_init (CsUnitRankingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_unit_ranking_dispose;
  object_class->finalize = cs_unit_ranking_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-ranking.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitRanking, rank_from);
  gtk_widget_class_bind_template_child (widget_class, CsUnitRanking, rank_to);
  gtk_widget_class_bind_template_child (widget_class, CsUnitRanking, rank_spinner);
  gtk_widget_class_bind_template_child (widget_class, CsUnitRanking, rank_box);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitranking");
}

static void
cs_unit_ranking_init (CsUnitRanking *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  cs_unit_channel_init (self->channel, sizeof self->channel, "rank");
  self->layer = self->unit = -1;
  g_signal_connect_swapped (self->rank_from, "notify::selected", G_CALLBACK (epochs_changed_cb), self);
  g_signal_connect_swapped (self->rank_to, "notify::selected", G_CALLBACK (epochs_changed_cb), self);
}
