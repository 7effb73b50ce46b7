/* Weight statistics over a whole run directory, computed one checkpoint at a time and cached in
 * the run directory (analysis.json) so that the app reads them instantly. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis/weight_stats.h"
#include "io/run.h"

/* The cache file in the run directory. Its "key" holds the sizes and modification times of
 * run.json, the model and every checkpoint, and CS_ANALYSIS_VERSION: any change recomputes. */
#define CS_ANALYSIS_FILE "analysis.json"
#define CS_ANALYSIS_VERSION 1

typedef struct {
  char *name;                /* node name */
  char *op;                  /* "conv2d", "linear" (gemm) or "matmul" */
  int64_t n_filters;
  /* One value per epoch of the run; NaN where undefined (first epoch, zero norms, no fit). */
  double *norm, *relative_change, *cosine_to_previous, *distance_from_init, *rotation;
  double *alpha, *stable_rank;
  float *filter_change;      /* [epoch * n_filters + k]; the first epoch's row is NaN */
} cs_layer_series;

typedef struct {
  int32_t n_epochs;
  int32_t *epochs;           /* epoch numbers as run.json lists them */
  int32_t n_layers;
  cs_layer_series *layers;   /* in graph order */
  bool from_cache;           /* read from analysis.json rather than computed */
} cs_run_stats;

/* Computes the statistics of every layer at every epoch of run. Checkpoints are loaded one at a
 * time over the run's graph; at most three sets of weights are alive (the initialisation, the
 * previous epoch, the current one). Progress runs from 0 to 1; cancel is polled between
 * layers (CS_ERR_CANCELLED). Errors name the checkpoint and the reason. */
cs_run_stats *cs_run_stats_compute (const cs_run *run, const cs_progress *progress, cs_error *err);

/* The cached statistics when analysis.json matches the run, else computes them and writes the
 * cache atomically. A cache that cannot be written (read-only run) is not an error. */
cs_run_stats *cs_run_stats_load (const cs_run *run, const cs_progress *progress, cs_error *err);

void cs_run_stats_free (cs_run_stats *s);

/* The layer of that node name, or NULL. */
const cs_layer_series *cs_run_stats_layer (const cs_run_stats *s, const char *name);
