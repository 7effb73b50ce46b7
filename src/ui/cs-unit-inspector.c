/* CsUnitInspector: follows session:layer, :unit and :epoch, validates the selection and hands
 * it to its four panels, which run their own worker jobs; it draws only the header. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "cs-unit-actmax.h"
#include "cs-unit-evolution.h"
#include "cs-unit-examples.h"
#include "cs-unit-inspector-private.h"
#include "cs-unit-panel.h"
#include "cs-unit-ranking.h"
#include "graph/ops.h"

struct _CsUnitInspector
{
  GtkWidget parent_instance;
  CsSession *session;
  GBinding *explain_binding;
  CsModelSet *set;             /* what the panels were reset for */
  int epoch, layer, unit;      /* the unit shown; layer -1 when none */

  GtkStack *stack;
  GtkLabel *title;
  GtkLabel *subtitle;
  GtkToggleButton *explain_button;
  CsUnitActmax *actmax;
  CsUnitExamples *examples;
  CsUnitEvolution *evolution;
  CsUnitRanking *ranking;
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

/* The model set changed: every panel starts over. */
static void
reset_for_set (CsUnitInspector *self, CsModelSet *set)
{
  g_clear_pointer (&self->set, cs_model_set_unref);
  if (set != NULL)
    self->set = cs_model_set_ref (set);
  self->layer = self->unit = self->epoch = -1;
  cs_unit_actmax_reset (self->actmax, set);
  cs_unit_examples_reset (self->examples, set);
  cs_unit_evolution_reset (self->evolution, set);
  cs_unit_ranking_reset (self->ranking, set);
}

static void
update_header (CsUnitInspector *self)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  const cs_node *n = &g->nodes[self->layer];
  const char *spec = cs_unit_examples_get_dataset_spec (self->examples);
  g_autofree char *title = g_strdup_printf (_("Unit %d of %s"), self->unit, n->name);
  g_autofree char *sub = g_strdup_printf (_("%s · epoch %d · %s"), cs_op_get (n->op)->name,
                                          cs_model_set_get_epoch_number (self->set, self->epoch),
                                          spec != NULL ? spec : _("no data set"));

  cs_unit_label_set_text (self->title, title);
  cs_unit_label_set_text (self->subtitle, sub);
}

static void
select_none (CsUnitInspector *self)
{
  cs_unit_evolution_select (self->evolution, -1, -1, -1);
  cs_unit_actmax_select (self->actmax, -1, -1, -1);
  cs_unit_examples_select (self->examples, -1, -1, -1);
  self->layer = self->unit = -1;
  gtk_stack_set_visible_child_name (self->stack, "empty");
}

static void
selection_changed (CsUnitInspector *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  int layer, unit, epoch;

  if (set != self->set)
    reset_for_set (self, set);
  if (set == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  layer = cs_session_get_layer (self->session);
  unit = cs_session_get_unit (self->session);
  epoch = cs_session_get_epoch (self->session);
  if (layer < 0 || unit < 0 || unit >= cs_actmax_unit_count (cs_model_set_get_graph (set), layer))
    {
      select_none (self);
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "unit");
  if (layer == self->layer && unit == self->unit && epoch == self->epoch)
    return;
  self->layer = layer;
  self->unit = unit;
  self->epoch = epoch;
  update_header (self);
  /* The evolution first: it waits for the actmax panel's main image. */
  cs_unit_evolution_select (self->evolution, epoch, layer, unit);
  cs_unit_actmax_select (self->actmax, epoch, layer, unit);
  cs_unit_examples_select (self->examples, epoch, layer, unit);
  cs_unit_ranking_select (self->ranking, layer, unit);
}

static void
session_changed_cb (CsSession *session, GParamSpec *pspec, CsUnitInspector *self)
{
  selection_changed (self);
}

/* A panel's "loading" is the inspector's PROP. */
static void
panel_loading_cb (GObject *panel, GParamSpec *pspec, CsUnitInspector *self)
{
  int prop = GPOINTER_TO_INT (g_object_get_data (panel, "inspector-prop"));

  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

CsSession *
cs_unit_inspector_get_session (CsUnitInspector *self)
{
  return self->session;
}

static void
panels_set_session (CsUnitInspector *self, CsSession *session)
{
  cs_unit_actmax_set_session (self->actmax, session);
  cs_unit_examples_set_session (self->examples, session);
  cs_unit_evolution_set_session (self->evolution, session, self->actmax);
  cs_unit_ranking_set_session (self->ranking, session);
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
  panels_set_session (self, session);
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

/* Probes (cs-unit-inspector-private.h): each asks its panel. */

void
cs_unit_inspector_get_actmax_params (CsUnitInspector *self, cs_actmax_params *params)
{
  cs_unit_actmax_get_params (self->actmax, params);
}

void
cs_unit_inspector_set_actmax_params (CsUnitInspector *self, const cs_actmax_params *params)
{
  cs_unit_actmax_set_params (self->actmax, params);
}

void
cs_unit_inspector_restart (CsUnitInspector *self)
{
  cs_unit_actmax_restart (self->actmax);
}

gboolean
cs_unit_inspector_get_actmax_loading (CsUnitInspector *self)
{
  return cs_unit_actmax_get_loading (self->actmax);
}

GdkTexture *
cs_unit_inspector_get_actmax_texture (CsUnitInspector *self)
{
  return cs_unit_actmax_get_texture (self->actmax);
}

const float *
cs_unit_inspector_get_actmax_image (CsUnitInspector *self, int *epoch, int *layer, int *unit,
                                    int *c, int *h, int *w, gboolean *final)
{
  return cs_unit_actmax_get_image (self->actmax, epoch, layer, unit, c, h, w, final);
}

guint
cs_unit_inspector_get_n_live_updates (CsUnitInspector *self)
{
  return cs_unit_actmax_get_n_live_updates (self->actmax);
}

guint
cs_unit_inspector_get_n_dropped (CsUnitInspector *self)
{
  return cs_unit_actmax_get_n_dropped (self->actmax);
}

gboolean
cs_unit_inspector_get_topk_loading (CsUnitInspector *self)
{
  return cs_unit_examples_get_loading (self->examples);
}

guint
cs_unit_inspector_get_n_top_examples (CsUnitInspector *self)
{
  return cs_unit_examples_get_n_examples (self->examples);
}

const char *
cs_unit_inspector_get_dataset_spec (CsUnitInspector *self)
{
  return cs_unit_examples_get_dataset_spec (self->examples);
}

void
cs_unit_inspector_set_train_split (CsUnitInspector *self, gboolean train)
{
  cs_unit_examples_set_train_split (self->examples, train);
}

gboolean
cs_unit_inspector_get_evolution_loading (CsUnitInspector *self)
{
  return cs_unit_evolution_get_loading (self->evolution);
}

guint
cs_unit_inspector_get_n_evolution_weights (CsUnitInspector *self)
{
  return cs_unit_evolution_get_n_weights (self->evolution);
}

guint
cs_unit_inspector_get_n_evolution_actmax (CsUnitInspector *self)
{
  return cs_unit_evolution_get_n_actmax (self->evolution);
}

const float *
cs_unit_inspector_get_sparkline (CsUnitInspector *self, int *n)
{
  return cs_unit_evolution_get_sparkline (self->evolution, n);
}

void
cs_unit_inspector_set_rank_epochs (CsUnitInspector *self, int from, int to)
{
  cs_unit_ranking_set_epochs (self->ranking, from, to);
}

gboolean
cs_unit_inspector_get_rank_loading (CsUnitInspector *self)
{
  return cs_unit_ranking_get_loading (self->ranking);
}

guint
cs_unit_inspector_get_n_ranked (CsUnitInspector *self)
{
  return cs_unit_ranking_get_n_ranked (self->ranking);
}

gboolean
cs_unit_inspector_get_ranked (CsUnitInspector *self, guint i, int *node, int *unit, float *change)
{
  return cs_unit_ranking_get_ranked (self->ranking, i, node, unit, change);
}

void
cs_unit_inspector_activate_ranked (CsUnitInspector *self, guint i)
{
  cs_unit_ranking_activate (self->ranking, i);
}

static void
cs_unit_inspector_dispose (GObject *object)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_clear_pointer (&self->explain_binding, g_binding_unbind);
    }
  g_clear_object (&self->session);
  g_clear_pointer (&self->set, cs_model_set_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_UNIT_INSPECTOR);
  G_OBJECT_CLASS (cs_unit_inspector_parent_class)->dispose (object);
}

static void
cs_unit_inspector_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsUnitInspector *self = CS_UNIT_INSPECTOR (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    case PROP_ACTMAX_LOADING: g_value_set_boolean (value, cs_unit_actmax_get_loading (self->actmax)); break;
    case PROP_TOPK_LOADING: g_value_set_boolean (value, cs_unit_examples_get_loading (self->examples)); break;
    case PROP_EVOLUTION_LOADING: g_value_set_boolean (value, cs_unit_evolution_get_loading (self->evolution)); break;
    case PROP_RANK_LOADING: g_value_set_boolean (value, cs_unit_ranking_get_loading (self->ranking)); break;
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
  g_type_ensure (CS_TYPE_UNIT_ACTMAX);
  g_type_ensure (CS_TYPE_UNIT_EXAMPLES);
  g_type_ensure (CS_TYPE_UNIT_EVOLUTION);
  g_type_ensure (CS_TYPE_UNIT_RANKING);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-unit-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, stack);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, title);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, subtitle);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, explain_button);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, actmax);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, examples);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, evolution);
  gtk_widget_class_bind_template_child (widget_class, CsUnitInspector, ranking);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csunitinspector");
}

static void
cs_unit_inspector_init (CsUnitInspector *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->layer = self->unit = self->epoch = -1;
  {
    const struct { gpointer panel; int prop; } panels[] = {
      { self->actmax, PROP_ACTMAX_LOADING }, { self->examples, PROP_TOPK_LOADING },
      { self->evolution, PROP_EVOLUTION_LOADING }, { self->ranking, PROP_RANK_LOADING },
    };
    for (guint i = 0; i < G_N_ELEMENTS (panels); i++)
      {
        g_object_set_data (G_OBJECT (panels[i].panel), "inspector-prop", GINT_TO_POINTER (panels[i].prop));
        g_signal_connect_object (panels[i].panel, "notify::loading", G_CALLBACK (panel_loading_cb),
                                 self, 0);
      }
  }
}

GtkWidget *
cs_unit_inspector_new (CsSession *session)
{
  return g_object_new (CS_TYPE_UNIT_INSPECTOR, "session", session, NULL);
}
