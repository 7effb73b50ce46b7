/* The validation-free signals of one run directory, with the thresholds the shipped study
 * (studies/weights-bet) fitted, for the app's training view. */
#pragma once

#include <stdint.h>

#include "analysis/signals.h"
#include "io/run.h"

/* The study's verdict, quoted where the app explains its default signal. */
typedef struct {
  cs_signal_kind best;       /* the signal with most held-out agreement */
  int32_t within_2, held_out; /* "within +-2 epochs of the best smoothed validation epoch in
                               * within_2 of held_out runs" */
  int32_t never_within_2;    /* the same for never stopping (training to the end): the baseline */
  const char *study;         /* the study's name under studies/ */
} cs_signal_study_result;

const cs_signal_study_result *cs_signal_study_result_get (void);
/* The threshold the study fitted for k (NaN for the fixed knee rule). */
double cs_signal_study_threshold (cs_signal_kind k);

/* run.json's optional per-epoch metrics (NaN where absent), n = run->n_epochs values each;
 * any pointer may be NULL. */
cs_status cs_run_extras_load (const cs_run *run, double *test_loss, double *test_accuracy, double *eb,
                              cs_error *err);

typedef struct {
  int32_t onset[CS_N_SIGNALS];  /* index into run->epochs, or -1 */
} cs_run_signals;

/* Every signal's onset with the study's thresholds: weight statistics from the run's cache
 * (computed when stale), update cosines from the checkpoints, the EB criterion from run.json.
 * progress and cancel as cs_run_stats_load. */
cs_status cs_run_signals_compute (const cs_run *run, const cs_progress *progress, cs_run_signals *out,
                                  cs_error *err);
