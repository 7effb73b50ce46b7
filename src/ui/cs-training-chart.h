/* CsTrainingChart: loss and accuracy per epoch, train against validation, with the
 * generalisation gap shaded, both overfitting onsets (validation, weights) marked and a hover
 * read-out. */
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
/* The onset by the weights alone (from the run's analysis, which loads later), or -1. */
void cs_training_chart_set_weight_onset (CsTrainingChart *self, int index);
int cs_training_chart_get_weight_onset (CsTrainingChart *self);

/* Draws the two panels (loss, accuracy: axes, ticks, legends, the gap band and both onsets,
 * -1 for none) of run into cr over width x height, in fg for text and axes: what the widget
 * shows without its cursor and read-out, and what figure export draws into PDF, SVG and PNG
 * surfaces. */
void cs_training_chart_draw (const cs_run *run, int onset, int weight_onset, cairo_t *cr,
                             PangoLayout *pl, const GdkRGBA *fg, int width, int height);
/* The session's run (or NULL) that the chart draws. */
const cs_run *cs_training_chart_get_run (CsTrainingChart *self);

/* A mark drawn over both panels at an epoch index: a validation-free signal's onset. */
#define CS_TRAINING_MAX_MARKS 8
typedef struct
{
  int index;                   /* into the run's epochs; < 0 draws nothing */
  double rgb[3];
  char *label;                 /* drawn beside the mark (copied), or NULL */
} CsTrainingMark;

/* Replaces the marks (copied; at most CS_TRAINING_MAX_MARKS). */
void cs_training_chart_set_marks (CsTrainingChart *self, const CsTrainingMark *marks, int n);
int cs_training_chart_get_n_marks (CsTrainingChart *self);

/* The validation-loss rule (analysis/overfitting.h when in the build, else the same rule
 * here): the index of the best epoch when validation loss then rose while training loss fell. */
int cs_training_onset_by_validation (const double *train_loss, const double *val_loss, int n);

G_END_DECLS
