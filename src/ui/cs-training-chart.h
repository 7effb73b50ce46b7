/* CsTrainingChart: loss and accuracy per epoch, train against validation, with the
 * generalisation gap shaded, the overfitting onset marked and a hover read-out. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_TRAINING_CHART (cs_training_chart_get_type ())

G_DECLARE_FINAL_TYPE (CsTrainingChart, cs_training_chart, CS, TRAINING_CHART, GtkWidget)

GtkWidget *cs_training_chart_new (CsSession *session);
void cs_training_chart_set_session (CsTrainingChart *self, CsSession *session);
/* Index of the epoch where overfitting sets in by the validation rule, or -1. */
int cs_training_chart_get_onset (CsTrainingChart *self);

/* The validation-loss rule (analysis/overfitting.h when in the build, else the same rule
 * here): the index of the best epoch when validation loss then rose while training loss fell. */
int cs_training_onset_by_validation (const double *train_loss, const double *val_loss, int n);

G_END_DECLS
