/* CsAurocChart: how well epochs 0..k anticipate the final model's validation mistakes (the
 * core's early-epoch AUROC), one point per k, the selected epoch marked. */
#pragma once

#include <gtk/gtk.h>

#include "cs-data-history.h"

G_BEGIN_DECLS

#define CS_TYPE_AUROC_CHART (cs_auroc_chart_get_type ())

G_DECLARE_FINAL_TYPE (CsAurocChart, cs_auroc_chart, CS, AUROC_CHART, GtkWidget)

/* d stays owned by the caller (set NULL before freeing it). */
void cs_auroc_chart_set_data (CsAurocChart *self, const CsDataHistory *d);
void cs_auroc_chart_set_epoch (CsAurocChart *self, int epoch);
void cs_auroc_chart_draw (CsAurocChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
                          int w, int h, gboolean figure);

G_END_DECLS
