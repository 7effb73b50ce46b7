/* CsUnitEvolution: the unit inspector's evolution panel: the unit's weights and actmax image
 * at every epoch (click one to go there) and its per-epoch filter change from the run's
 * analysis. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-unit-panel.h"
#include "cs-unit-actmax.h"

G_BEGIN_DECLS

#define CS_TYPE_UNIT_EVOLUTION (cs_unit_evolution_get_type ())

G_DECLARE_FINAL_TYPE (CsUnitEvolution, cs_unit_evolution, CS, UNIT_EVOLUTION, CsUnitPanel)

/* The actmax panel whose images (cache and parameters) the evolution shares; its epoch images
 * start once the actmax panel's main image is done. */
void cs_unit_evolution_set_session (CsUnitEvolution *self, CsSession *session,
                                    CsUnitActmax *actmax);
/* The model set changed (NULL: none); the run's weight statistics load for the sparkline. */
void cs_unit_evolution_reset (CsUnitEvolution *self, CsModelSet *set);
/* The unit at the epoch index (layer < 0 stops); a new unit empties the grid. */
void cs_unit_evolution_select (CsUnitEvolution *self, int epoch, int layer, int unit);

gboolean cs_unit_evolution_get_loading (CsUnitEvolution *self);
guint cs_unit_evolution_get_n_weights (CsUnitEvolution *self);
guint cs_unit_evolution_get_n_actmax (CsUnitEvolution *self);
/* The unit's per-epoch filter change (analysis), n_epochs values (NaN where undefined), or NULL. */
const float *cs_unit_evolution_get_sparkline (CsUnitEvolution *self, int *n);

G_END_DECLS
