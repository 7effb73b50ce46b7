/* CsUnitPanel: what the unit inspector's panels share as a class: "loading" and disposal. */
#include "config.h"

#include "cs-unit-panel.h"

typedef struct
{
  gboolean loading;
} CsUnitPanelPrivate;

enum { PROP_0, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (CsUnitPanel, cs_unit_panel, GTK_TYPE_WIDGET)

gboolean
cs_unit_panel_get_loading (CsUnitPanel *self)
{
  CsUnitPanelPrivate *priv = cs_unit_panel_get_instance_private (self);

  return priv->loading;
}

void
cs_unit_panel_set_loading (CsUnitPanel *self, gboolean loading)
{
  CsUnitPanelPrivate *priv = cs_unit_panel_get_instance_private (self);

  if (priv->loading == loading)
    return;
  priv->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

/* After the subclass's dispose_template: the template's root box is not a bound child. */
static void
cs_unit_panel_dispose (GObject *object)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (cs_unit_panel_parent_class)->dispose (object);
}

static void
cs_unit_panel_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_LOADING: g_value_set_boolean (value, cs_unit_panel_get_loading (CS_UNIT_PANEL (object))); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_unit_panel_class_init (CsUnitPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cs_unit_panel_dispose;
  object_class->get_property = cs_unit_panel_get_property;
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS
                                                   | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cs_unit_panel_init (CsUnitPanel *self)
{
}
