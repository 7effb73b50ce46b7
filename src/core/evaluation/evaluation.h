/* How far to trust an attribution map (docs/cli/evaluate.md): the deletion and insertion curves
 * of Petsiuk et al. 2018, and the model-randomisation sanity check of Adebayo et al. 2018. */
#pragma once

#include "attribution/attribution.h"

#define CS_EVALUATION_STEPS 50

typedef enum {
  CS_CURVE_DELETION = 0,     /* pixels of the input set to the baseline; lower AUC is better */
  CS_CURVE_INSERTION,        /* pixels of the input put into a blurred copy; higher is better */
} cs_curve_kind;

typedef struct {
  cs_curve_kind kind;
  int32_t steps;             /* the curve has steps + 1 points, at fractions k / steps */
  double *probability;       /* the target's softmax probability at each point */
  double auc;                /* trapezoid rule over [0,1] */
} cs_curve;

/* The deletion or insertion curve of map (H,W) at the input's resolution for class target
 * (>= 0), with input [1,C,H,W]. Pixels (all channels of one position) go in order of
 * decreasing map value (ties: lower index first); point k has round(k·H·W / steps) pixels
 * changed. Deletion sets them to `baseline` (CS_BASELINE_ZERO: the all-zero input tensor;
 * seed for the uniform one); insertion starts from the blurred input (attribution/baseline.h)
 * and puts the input's pixels back. steps 0 = CS_EVALUATION_STEPS. The points go through e
 * in batches of cs_exec_max_batch, in inference mode. */
cs_status cs_evaluation_curve (cs_exec *e, const cs_tensor *input, const cs_tensor *map,
                               int32_t target, cs_curve_kind kind, int32_t steps,
                               cs_baseline baseline, uint64_t seed, const cs_progress *progress,
                               cs_curve *out, cs_error *err);
void cs_curve_free (cs_curve *c);

/* Trapezoid rule over [0,1] of n >= 2 values at equal spacing. */
double cs_curve_auc (const double *y, int32_t n);

typedef struct {
  int32_t n_layers;
  int32_t *layers;           /* node ids of the layers with parameters, output side first */
  double *spearman;          /* [i]: after re-initialising layers[0..i] */
} cs_randomization;

/* Cascading randomisation: the parameters of each layer, from the output down, are replaced
 * in turn by a fresh draw of PyTorch's default initialisation (cs_model_init_weights with
 * seed), cumulatively; after each step the method of p is run again (same target and layer
 * as `original`, or as a first run on the trained model when original is NULL) and the
 * Spearman rank correlation of its map with the original map is recorded. e's model is
 * restored before returning. Progress spans all runs; cancellation is polled between and
 * within them. */
cs_status cs_evaluation_randomization (cs_exec *e, const cs_tensor *input,
                                       const cs_attribution_params *p,
                                       const cs_attribution *original, uint64_t seed,
                                       const cs_progress *progress, cs_randomization *out,
                                       cs_error *err);
void cs_randomization_free (cs_randomization *r);

/* Spearman's rank correlation of n pairs (average ranks for ties), in [-1,1]. Exactly 1 for
 * identical arrays (a constant one included); 0 when one array is constant and the other is
 * not, since ranks then carry no information. Non-finite values count as 0. */
double cs_spearman (const float *a, const float *b, int64_t n);
