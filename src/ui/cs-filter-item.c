/* CsFilterItem: an immutable record with properties, so sorters and bindings can read it. */
#include "config.h"

#include "cs-filter-item.h"

struct _CsFilterItem
{
  GObject parent_instance;
  int index;
  GdkTexture *weights;
  GdkTexture *feature_map;
  double mean_activation;
  double weight_norm;
};

enum { PROP_0, PROP_INDEX, PROP_WEIGHTS, PROP_FEATURE_MAP, PROP_MEAN_ACTIVATION, PROP_WEIGHT_NORM,
       N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsFilterItem, cs_filter_item, G_TYPE_OBJECT)

CsFilterItem *
cs_filter_item_new (int index, GdkTexture *weights, GdkTexture *feature_map,
                    double mean_activation, double weight_norm)
{
  CsFilterItem *self = g_object_new (CS_TYPE_FILTER_ITEM, NULL);

  self->index = index;
  g_set_object (&self->weights, weights);
  g_set_object (&self->feature_map, feature_map);
  self->mean_activation = mean_activation;
  self->weight_norm = weight_norm;
  return self;
}

int
cs_filter_item_get_index (CsFilterItem *self)
{
  return self->index;
}

GdkTexture *
cs_filter_item_get_weights (CsFilterItem *self)
{
  return self->weights;
}

GdkTexture *
cs_filter_item_get_feature_map (CsFilterItem *self)
{
  return self->feature_map;
}

double
cs_filter_item_get_mean_activation (CsFilterItem *self)
{
  return self->mean_activation;
}

double
cs_filter_item_get_weight_norm (CsFilterItem *self)
{
  return self->weight_norm;
}

static void
cs_filter_item_finalize (GObject *object)
{
  CsFilterItem *self = CS_FILTER_ITEM (object);

  g_clear_object (&self->weights);
  g_clear_object (&self->feature_map);
  G_OBJECT_CLASS (cs_filter_item_parent_class)->finalize (object);
}

static void
cs_filter_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsFilterItem *self = CS_FILTER_ITEM (object);

  switch (prop_id)
    {
    case PROP_INDEX: g_value_set_int (value, self->index); break;
    case PROP_WEIGHTS: g_value_set_object (value, self->weights); break;
    case PROP_FEATURE_MAP: g_value_set_object (value, self->feature_map); break;
    case PROP_MEAN_ACTIVATION: g_value_set_double (value, self->mean_activation); break;
    case PROP_WEIGHT_NORM: g_value_set_double (value, self->weight_norm); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_filter_item_class_init (CsFilterItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = cs_filter_item_finalize;
  object_class->get_property = cs_filter_item_get_property;

  properties[PROP_INDEX] = g_param_spec_int ("index", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_WEIGHTS] = g_param_spec_object ("weights", NULL, NULL, GDK_TYPE_TEXTURE, ro);
  properties[PROP_FEATURE_MAP] = g_param_spec_object ("feature-map", NULL, NULL, GDK_TYPE_TEXTURE, ro);
  properties[PROP_MEAN_ACTIVATION] = g_param_spec_double ("mean-activation", NULL, NULL,
                                                          -G_MAXDOUBLE, G_MAXDOUBLE, 0, ro);
  properties[PROP_WEIGHT_NORM] = g_param_spec_double ("weight-norm", NULL, NULL,
                                                      0, G_MAXDOUBLE, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cs_filter_item_init (CsFilterItem *self)
{
}
