/* CsUnitInspector's probes for the widget tests: what each panel shows and is doing. The
 * properties actmax-loading, topk-loading, evolution-loading and rank-loading follow the
 * panels' own. */
#pragma once

#include "cs-unit-inspector.h"
#include "features/actmax.h"

G_BEGIN_DECLS

/* Activation maximisation. Parameters apply from the next start (they restart the unit's). */
void cs_unit_inspector_get_actmax_params (CsUnitInspector *self, cs_actmax_params *params);
void cs_unit_inspector_set_actmax_params (CsUnitInspector *self, const cs_actmax_params *params);
/* Forgets the unit's cached image and starts again. */
void cs_unit_inspector_restart (CsUnitInspector *self);
gboolean cs_unit_inspector_get_actmax_loading (CsUnitInspector *self);
/* The image shown, and whose it is (epoch index, layer, unit); NULL when none. Live steps are
 * shown too: final is FALSE until the job has finished. */
GdkTexture *cs_unit_inspector_get_actmax_texture (CsUnitInspector *self);
const float *cs_unit_inspector_get_actmax_image (CsUnitInspector *self, int *epoch, int *layer,
                                                 int *unit, int *c, int *h, int *w,
                                                 gboolean *final);
guint cs_unit_inspector_get_n_live_updates (CsUnitInspector *self);
/* Results of superseded jobs that arrived and were dropped. */
guint cs_unit_inspector_get_n_dropped (CsUnitInspector *self);

/* Top examples of the unit at the session's epoch; 0 while loading or without a data set. */
gboolean cs_unit_inspector_get_topk_loading (CsUnitInspector *self);
guint cs_unit_inspector_get_n_top_examples (CsUnitInspector *self);
/* The data set spec of the run, or NULL. */
const char *cs_unit_inspector_get_dataset_spec (CsUnitInspector *self);
void cs_unit_inspector_set_train_split (CsUnitInspector *self, gboolean train);

/* Evolution: cells filled so far (weights pictures and actmax pictures). */
gboolean cs_unit_inspector_get_evolution_loading (CsUnitInspector *self);
guint cs_unit_inspector_get_n_evolution_weights (CsUnitInspector *self);
guint cs_unit_inspector_get_n_evolution_actmax (CsUnitInspector *self);
/* The unit's per-epoch filter change (analysis), n_epochs values (NaN where undefined), or NULL. */
const float *cs_unit_inspector_get_sparkline (CsUnitInspector *self, int *n);

/* Rankings between two epoch indices; the ranked filters as (node, unit). */
void cs_unit_inspector_set_rank_epochs (CsUnitInspector *self, int from, int to);
gboolean cs_unit_inspector_get_rank_loading (CsUnitInspector *self);
guint cs_unit_inspector_get_n_ranked (CsUnitInspector *self);
gboolean cs_unit_inspector_get_ranked (CsUnitInspector *self, guint i, int *node, int *unit,
                                       float *change);
/* Selects ranked filter i in the session (as clicking it does). */
void cs_unit_inspector_activate_ranked (CsUnitInspector *self, guint i);

G_END_DECLS
