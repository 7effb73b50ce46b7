/* CsUnitRanking: the unit inspector's ranking panel: the filters of the whole network that
 * changed most between two epochs; clicking one selects it in the session. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-unit-panel.h"

G_BEGIN_DECLS

#define CS_TYPE_UNIT_RANKING (cs_unit_ranking_get_type ())

G_DECLARE_FINAL_TYPE (CsUnitRanking, cs_unit_ranking, CS, UNIT_RANKING, CsUnitPanel)

void cs_unit_ranking_set_session (CsUnitRanking *self, CsSession *session);
/* The model set changed (NULL: none): the epoch lists fill, first to last epoch is ranked. */
void cs_unit_ranking_reset (CsUnitRanking *self, CsModelSet *set);
/* Highlights the unit (layer, unit) in the ranking. */
void cs_unit_ranking_select (CsUnitRanking *self, int layer, int unit);

void cs_unit_ranking_set_epochs (CsUnitRanking *self, int from, int to);
gboolean cs_unit_ranking_get_loading (CsUnitRanking *self);
guint cs_unit_ranking_get_n_ranked (CsUnitRanking *self);
/* The ranked filter i as (weight node, unit, relative change). */
gboolean cs_unit_ranking_get_ranked (CsUnitRanking *self, guint i, int *node, int *unit,
                                     float *change);
/* Selects ranked filter i in the session (as clicking it does). */
void cs_unit_ranking_activate (CsUnitRanking *self, guint i);

G_END_DECLS
