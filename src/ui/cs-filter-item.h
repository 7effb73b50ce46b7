/* CsFilterItem: one filter (unit) of the selected layer, as the filter gallery lists it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CS_TYPE_FILTER_ITEM (cs_filter_item_get_type ())

G_DECLARE_FINAL_TYPE (CsFilterItem, cs_filter_item, CS, FILTER_ITEM, GObject)

/* weights / feature_map may be NULL (a layer without weights, no input image). */
CsFilterItem *cs_filter_item_new (int index, GdkTexture *weights, GdkTexture *feature_map,
                                  double mean_activation, double weight_norm);

int cs_filter_item_get_index (CsFilterItem *self);
GdkTexture *cs_filter_item_get_weights (CsFilterItem *self);
GdkTexture *cs_filter_item_get_feature_map (CsFilterItem *self);
double cs_filter_item_get_mean_activation (CsFilterItem *self);
double cs_filter_item_get_weight_norm (CsFilterItem *self);

G_END_DECLS
