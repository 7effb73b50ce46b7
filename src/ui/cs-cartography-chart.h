/* CsCartographyChart: dataset cartography (Swayamdipta et al. 2020) of a run's training
 * examples, variability against confidence, coloured by correctness or by class; examples wrong
 * at the selected epoch are ringed. Hover reads a point out; a click activates it. */
#pragma once

#include <gtk/gtk.h>

#include "cs-data-history.h"

G_BEGIN_DECLS

#define CS_TYPE_CARTOGRAPHY_CHART (cs_cartography_chart_get_type ())

G_DECLARE_FINAL_TYPE (CsCartographyChart, cs_cartography_chart, CS, CARTOGRAPHY_CHART, GtkWidget)

/* d stays owned by the caller and must outlive its use here (set NULL before freeing it). */
void cs_cartography_chart_set_data (CsCartographyChart *self, const CsDataHistory *d);
/* epoch: an index into the history's epochs, or -1. */
void cs_cartography_chart_set_epoch (CsCartographyChart *self, int epoch);
void cs_cartography_chart_set_color_by_class (CsCartographyChart *self, gboolean by_class);
int64_t cs_cartography_chart_get_n_points (CsCartographyChart *self);
/* Where training example pos is drawn in a w x h area (FALSE without data). */
gboolean cs_cartography_chart_point_at (CsCartographyChart *self, int64_t pos, int w, int h,
                                        double *x, double *y);
/* What a click at (x, y) does: emits ::example-activated for the nearest point within reach.
 * Returns the point's position, or -1. */
int64_t cs_cartography_chart_activate_at (CsCartographyChart *self, double x, double y);
/* Draws the chart; figure: for export (a title and a legend, no hover). */
void cs_cartography_chart_draw (CsCartographyChart *self, cairo_t *cr, PangoLayout *pl,
                                const GdkRGBA *fg, int w, int h, gboolean figure);
/* Categorical colour of class c (shared by the Data view's panels). */
void cs_class_color (int c, double rgb[3]);

G_END_DECLS
