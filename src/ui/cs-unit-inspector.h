/* CsUnitInspector: one unit (session:layer, session:unit) in depth, in four panels of their
 * own: its activation maximisation refined live (CsUnitActmax), the data set's images that
 * excite it most (CsUnitExamples), its weights and actmax image at every epoch with its
 * per-epoch weight change (CsUnitEvolution), the filters that changed most between two epochs
 * (CsUnitRanking); and a toggle for saliency to explain it. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_UNIT_INSPECTOR (cs_unit_inspector_get_type ())

G_DECLARE_FINAL_TYPE (CsUnitInspector, cs_unit_inspector, CS, UNIT_INSPECTOR, GtkWidget)

GtkWidget *cs_unit_inspector_new (CsSession *session);
CsSession *cs_unit_inspector_get_session (CsUnitInspector *self);
void cs_unit_inspector_set_session (CsUnitInspector *self, CsSession *session);

G_END_DECLS
