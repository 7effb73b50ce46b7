/* CsWeightTimeline: a layers x epochs heat map of a weight statistic (relative change,
 * distance from initialisation, power-law alpha) from the run's cached analysis; clicking a
 * cell selects epoch and layer; unavailable epochs are hatched holes. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

#include "analysis/run_analysis.h"

G_BEGIN_DECLS

#define CS_TYPE_WEIGHT_TIMELINE (cs_weight_timeline_get_type ())

G_DECLARE_FINAL_TYPE (CsWeightTimeline, cs_weight_timeline, CS, WEIGHT_TIMELINE, GtkWidget)

typedef enum {
  CS_WEIGHT_STAT_RELATIVE_CHANGE = 0,
  CS_WEIGHT_STAT_DISTANCE_FROM_INIT,
  CS_WEIGHT_STAT_ALPHA,
  CS_WEIGHT_STAT_COUNT
} CsWeightStat;

const char *cs_weight_stat_title (CsWeightStat stat);

GtkWidget *cs_weight_timeline_new (CsSession *session);
void cs_weight_timeline_set_session (CsWeightTimeline *self, CsSession *session);
void cs_weight_timeline_set_stat (CsWeightTimeline *self, CsWeightStat stat);
gboolean cs_weight_timeline_get_loading (CsWeightTimeline *self);
int cs_weight_timeline_get_n_layers (CsWeightTimeline *self);
CsWeightStat cs_weight_timeline_get_stat (CsWeightTimeline *self);
/* The run's analysis behind the heat map (both onsets, unavailable epochs), or NULL while it
 * loads or when there is none; valid until the next notify::loading. */
const cs_run_analysis *cs_weight_timeline_get_analysis (CsWeightTimeline *self);
/* Why there is no analysis (one line), or NULL. */
const char *cs_weight_timeline_get_error (CsWeightTimeline *self);
/* The x of an epoch's column centre, in the timeline's coordinates (the scrubber lines up with
 * it); FALSE while there are no columns. */
gboolean cs_weight_timeline_column_center (CsWeightTimeline *self, int epoch, double *x);

/* The heat map as a figure (title, layer names, cells, epoch axis, colour bar), drawn in
 * black on cr by the same code as the widget; FALSE while there are no statistics. */
gboolean cs_weight_timeline_draw_figure (CsWeightTimeline *self, cairo_t *cr, int width, int height);
/* The figure's natural height in points (its width is free). */
int cs_weight_timeline_get_figure_height (CsWeightTimeline *self);

G_END_DECLS
