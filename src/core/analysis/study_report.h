/* A study's findings: every finished run of a study directory reduced to its ground truths and
 * signal onsets; thresholds fitted on one half of the runs and scored on the other half. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis/ground_truth.h"
#include "analysis/signals.h"

/* The truth thresholds are fitted against (and the default figure's truth). */
#define CS_STUDY_FIT_TRUTH CS_TRUTH_BEST_SMOOTHED
#define CS_STUDY_TOLERANCES 3   /* agreement within +-1, +-2 and +-3 epochs */
#define CS_STUDY_OVERFIT_MARGIN 4 /* epochs before the end for a run to count as overfitting */

typedef enum { CS_HALF_FIT = 0, CS_HALF_HELD_OUT = 1 } cs_study_half;

typedef struct {
  char *dir;                 /* run-NNNN */
  int32_t index;
  char *config;              /* the grid point without its seed ("cnn-small.json n=500 sgd ...") */
  double label_noise;
  cs_study_half half;
  int32_t n_epochs;          /* entries, epoch 0 included */
  double *train_loss, *val_loss, *val_accuracy, *test_loss, *test_accuracy, *eb, *lr, *update_cosine;
  double *score[CS_N_SIGNALS];
  int32_t truth[CS_N_TRUTHS];      /* epoch or -1 */
  int32_t onset[CS_N_SIGNALS];     /* with the fitted (or fixed) threshold; -1 = never */
} cs_study_run;

/* Scores over one half. A signal that never fires is scored as stopping at the last epoch (the
 * run trains to the end): it agrees with a truth at the end, and its regret is the end's. */
typedef struct {
  int32_t n_runs;                                 /* runs in the half */
  int32_t n_fired;                                /* runs whose onset exists */
  int32_t n_truth[CS_N_TRUTHS];                   /* runs where the truth exists */
  int32_t within[CS_N_TRUTHS][CS_STUDY_TOLERANCES];
  double median_abs_delta[CS_N_TRUTHS];           /* NaN when no run has the truth */
  double regret_val_median, regret_val_mean;      /* accuracy points (0..100) lost */
  double regret_test_median, regret_test_mean;
  /* The runs that overfit: the fit truth at least CS_STUDY_OVERFIT_MARGIN epochs before the
   * end. On the others, never firing is right; these ask whether a signal sees overfitting. */
  int32_t n_overfit;
  int32_t within_overfit[CS_STUDY_TOLERANCES];
  double median_abs_delta_overfit;
} cs_study_score;

typedef struct {
  cs_signal_kind kind;
  bool fixed_rule;
  double threshold;          /* fitted on the fit half (NaN for the fixed rule) */
  cs_study_score half[2];
} cs_study_signal;

typedef struct {
  char *dir;
  int32_t n_runs, n_skipped; /* finished runs used; runs skipped (unfinished or unreadable) */
  cs_study_run *runs;
  cs_study_signal signals[CS_N_SIGNALS];
  cs_study_score truth_stop[CS_N_TRUTHS][2];  /* regret of stopping at each truth (reference) */
  cs_study_score never_stop[2];               /* regret of training to the end */
  cs_signal_kind best;       /* most held-out agreement within +-2 with CS_STUDY_FIT_TRUTH (ties:
                              * the most on the held-out runs that overfit) */
} cs_study_report;

/* Reads study.json and every finished run under dir (weight statistics through the run's
 * analysis.json cache), computes truths, scores, fits and scores. Unfinished or unreadable runs
 * are skipped and counted; fewer than two usable runs is an error. Progress runs over the runs. */
cs_study_report *cs_study_report_compute (const char *dir, const cs_progress *progress, cs_error *err);
void cs_study_report_free (cs_study_report *r);
