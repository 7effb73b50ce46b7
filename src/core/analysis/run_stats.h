/* Weight statistics over a whole run directory, computed one checkpoint at a time and cached in
 * the run directory (analysis.json, read and validated by analysis_cache.c) so that the app
 * reads them instantly. A checkpoint that cannot be read marks its epoch unavailable. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis/weight_stats.h"
#include "graph/model.h"
#include "io/run.h"

/* The cache file in the run directory. Its "key" holds the sizes and modification times of
 * the model and every checkpoint, and CS_ANALYSIS_VERSION: any change recomputes. */
#define CS_ANALYSIS_FILE "analysis.json"
#define CS_ANALYSIS_VERSION 2
#define CS_ANALYSIS_FORMAT "convscope-analysis/2"

typedef struct {
  char *name;                /* node name */
  char *op;                  /* "conv2d", "linear" (gemm) or "matmul" */
  int64_t n_filters;
  /* One value per epoch of the run; NaN where undefined (first epoch, zero norms, no fit, an
   * unavailable checkpoint or its successor's change). */
  double *norm, *relative_change, *cosine_to_previous, *distance_from_init, *rotation;
  double *alpha, *stable_rank;
  float *filter_change;      /* [epoch * n_filters + k]; the first epoch's row is NaN */
} cs_layer_series;

typedef struct {
  int32_t n_epochs;
  int32_t *epochs;           /* epoch numbers as run.json lists them */
  /* n_epochs entries: NULL, or why that epoch's checkpoint could not be read (missing,
   * truncated, corrupt). Its statistics are NaN; the rest of the run is analysed. */
  char **checkpoint_error;
  int32_t n_unavailable;
  int32_t n_layers;
  cs_layer_series *layers;   /* in graph order */
  bool from_cache;           /* read from analysis.json rather than computed */
} cs_run_stats;

/* The series names in the order of cs_run_stats_series (the JSON keys of analysis.json and of
 * run-info --json, the CSV columns). */
#define CS_RUN_STATS_N_SERIES 7
extern const char *const cs_run_stats_series_names[CS_RUN_STATS_N_SERIES];
/* The series of l in that order. */
void cs_run_stats_series (const cs_layer_series *l, double *series[CS_RUN_STATS_N_SERIES]);

/* A layer's name, op, filters and series as a JSON object (NaN as null): the common part of a
 * layer in analysis.json and in the run-info JSON. */
struct cJSON;
struct cJSON *cs_layer_series_json (const cs_layer_series *l, int32_t n_epochs);

/* "conv2d", "linear" or "matmul": a layer's op as the statistics name it. */
const char *cs_run_stats_op_name (cs_op op);

/* The architecture of run (its model file, no checkpoint), checked against run.json by
 * cs_run_check_model: what the statistics are computed over and a cache is validated against.
 * Errors name the file and the reason. */
cs_model *cs_run_stats_model (const cs_run *run, cs_error *err);

/* Computes the statistics of every layer at every epoch of run. Checkpoints are laid over
 * model (from cs_run_stats_model) one at a time; at most three sets of weights are alive (the
 * initialisation, the previous epoch, the current one). A checkpoint that cannot be read is
 * recorded in checkpoint_error, not an error. Progress runs from 0 to 1; cancel is polled
 * between layers (CS_ERR_CANCELLED). */
cs_run_stats *cs_run_stats_compute_over (const cs_run *run, const cs_model *model,
                                         const cs_progress *progress, cs_error *err);
/* The same, loading the architecture itself. */
cs_run_stats *cs_run_stats_compute (const cs_run *run, const cs_progress *progress, cs_error *err);

/* The cached statistics when analysis.json matches the run and passes validation against the
 * run and its model, else computes them and rewrites the cache atomically. A cache that fails
 * validation is discarded whole, never half-used. A cache that cannot be written (read-only
 * run) is not an error. */
cs_run_stats *cs_run_stats_load (const cs_run *run, const cs_progress *progress, cs_error *err);

/* Allocation helpers shared by the computation and the cache reader: a statistics object for
 * the run's epochs with n_layers zeroed layers, and one layer's series all NaN. Sizes come
 * from the run and the model, never from a file. */
cs_run_stats *cs_run_stats_new (const cs_run *run, int32_t n_layers, cs_error *err);
bool cs_layer_series_init (cs_layer_series *l, const char *name, const char *op,
                           int64_t n_filters, int32_t n_epochs);
/* Records why epoch e is unavailable (copies reason). */
bool cs_run_stats_mark_unavailable (cs_run_stats *s, int32_t e, const char *reason);

void cs_run_stats_free (cs_run_stats *s);

/* The layer of that node name, or NULL. */
const cs_layer_series *cs_run_stats_layer (const cs_run_stats *s, const char *name);
