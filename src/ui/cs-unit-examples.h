/* CsUnitExamples: the unit inspector's top-examples panel: the images of the run's data set
 * (test or training split) that excite the unit's layer most, with the receptive field of the
 * strongest position outlined. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-unit-panel.h"

G_BEGIN_DECLS

#define CS_TYPE_UNIT_EXAMPLES (cs_unit_examples_get_type ())

G_DECLARE_FINAL_TYPE (CsUnitExamples, cs_unit_examples, CS, UNIT_EXAMPLES, CsUnitPanel)

void cs_unit_examples_set_session (CsUnitExamples *self, CsSession *session);
/* The model set changed (NULL: none): its run's data set is opened, the cache starts over. */
void cs_unit_examples_reset (CsUnitExamples *self, CsModelSet *set);
/* The unit at the epoch index; layer < 0 stops. */
void cs_unit_examples_select (CsUnitExamples *self, int epoch, int layer, int unit);

gboolean cs_unit_examples_get_loading (CsUnitExamples *self);
guint cs_unit_examples_get_n_examples (CsUnitExamples *self);
/* The data set spec of the run, or NULL. */
const char *cs_unit_examples_get_dataset_spec (CsUnitExamples *self);
void cs_unit_examples_set_train_split (CsUnitExamples *self, gboolean train);

G_END_DECLS
