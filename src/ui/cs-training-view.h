/* CsTrainingView: the curves, the weight timeline and the epoch scrubber (slider, ←/→ keys,
 * play) that moves every other view to that epoch's checkpoint. */
#pragma once

#include <gtk/gtk.h>

#include "analysis/signals_run.h"

#include "cs-session.h"
#include "cs-training-chart.h"
#include "cs-weight-timeline.h"

G_BEGIN_DECLS

#define CS_TYPE_TRAINING_VIEW (cs_training_view_get_type ())

G_DECLARE_FINAL_TYPE (CsTrainingView, cs_training_view, CS, TRAINING_VIEW, GtkWidget)

GtkWidget *cs_training_view_new (CsSession *session);
void cs_training_view_set_session (CsTrainingView *self, CsSession *session);
/* Steps the epoch by delta (clamped), as the arrow keys do. */
void cs_training_view_step (CsTrainingView *self, int delta);

/* Starts or stops playing the epochs, as the play button does (no-op without epochs). */
void cs_training_view_toggle_play (CsTrainingView *self);
gboolean cs_training_view_get_playing (CsTrainingView *self);
CsTrainingChart *cs_training_view_get_chart (CsTrainingView *self);
CsWeightTimeline *cs_training_view_get_timeline (CsTrainingView *self);
/* What the view says now: the onset line (both rules) and its tooltip (the explanation), and
 * the line explaining an unavailable selected epoch ("" when the epoch is fine). */
const char *cs_training_view_get_onset_text (CsTrainingView *self);
const char *cs_training_view_get_onset_tooltip (CsTrainingView *self);
const char *cs_training_view_get_hole_text (CsTrainingView *self);

/* The run's validation-free signal onsets (analysis/signals_run.h), NULL while they are computed
 * or without a run; and showing one on the chart, as its check in the Signals menu does. */
const cs_run_signals *cs_training_view_get_signals (CsTrainingView *self);
void cs_training_view_set_signal_shown (CsTrainingView *self, int signal, gboolean shown);
gboolean cs_training_view_get_signal_shown (CsTrainingView *self, int signal);

G_END_DECLS
