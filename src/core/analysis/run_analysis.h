/* The analysis of a training run, as run-info prints it and the app shows and exports it: the
 * per-epoch series, the generalisation gap, both overfitting onsets and their explanation. One
 * implementation for the CLI and the app, one schema for their JSON and CSV. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "analysis/overfitting.h"
#include "analysis/run_stats.h"
#include "io/run.h"

typedef struct {
  const cs_run *run;         /* borrowed: outlives the analysis */
  cs_run_stats *stats;       /* owned */
  double *gap;               /* n_epochs: val_loss - train_loss, NaN where either is missing */
  double *weight_signal;     /* n_epochs: what the weight rule thresholds (cs_onset_weight_signal) */
  int32_t by_validation;     /* index into the epochs, or -1 */
  cs_weight_onset by_weights;
  char explanation[3072];    /* both rules in plain language, and any unavailable epochs */
  /* n_epochs: how well epochs 0..k anticipate the last epoch's validation mistakes (AUROC, see
   * example_measures.h), when the run's example history is known; else NULL. */
  double *early_auroc;
} cs_run_analysis;

/* Analyses run with its statistics (taken over: freed with the analysis, also on error). */
cs_run_analysis *cs_run_analysis_new (const cs_run *run, cs_run_stats *stats, cs_error *err);
/* The statistics from the validated analysis.json cache (or computed and cached), analysed. */
cs_run_analysis *cs_run_analysis_load (const cs_run *run, const cs_progress *progress,
                                       cs_error *err);
void cs_run_analysis_free (cs_run_analysis *a);
/* Fills a->early_auroc from the run's example history (history.h). cs_run_analysis_load does
 * it from a valid history.bin cache by itself; computing the history is the caller's choice. */
struct cs_history;
cs_status cs_run_analysis_attach_history (cs_run_analysis *a, const struct cs_history *h, cs_error *err);

/* Epoch number of an index into the epochs, or -1 for -1. */
int32_t cs_run_analysis_epoch (const cs_run_analysis *a, int32_t index);
/* The reason epoch index is unavailable (its checkpoint could not be read), or NULL. */
const char *cs_run_analysis_checkpoint_error (const cs_run_analysis *a, int32_t index);

/* The run-info JSON document (schema convscope-run-info/1, docs/cli/run-info.md), ending in a
 * newline: what `run-info --json` prints and the app's data export writes, byte for byte. */
char *cs_run_report_json (const cs_run_analysis *a, cs_error *err);
/* The CSV: one row per epoch and layer (RFC 4180), what `run-info --csv` prints and the app's
 * CSV export writes. */
char *cs_run_report_csv (const cs_run_analysis *a, cs_error *err);
