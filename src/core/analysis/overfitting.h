/* Overfitting onset of a training run: by the validation curve, by the weights alone (no
 * validation data), their agreement, and the generalisation gap. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The validation rule's defaults. */
#define CS_ONSET_PATIENCE 3
#define CS_ONSET_MIN_DELTA 0.01

/* Onset by validation: b = the first epoch of lowest validation loss. It is the onset when
 *  - at least `patience` epochs with a validation loss follow b,
 *  - over those `patience` epochs validation loss averages more than (1 + min_delta) times its
 *    minimum (it rose, beyond noise), and
 *  - training loss kept falling: its mean over the same epochs is below its value at b.
 * Returns the index of b in the arrays, or -1 (no overfitting seen yet). NaN entries (epochs
 * without metrics) are skipped. */
int32_t cs_onset_by_validation (const double *train_loss, const double *val_loss, int32_t n,
                                int32_t patience, double min_delta);

/* Per-layer weight series, [layer * n_epochs + epoch], NaN where undefined (see
 * cs_onset_by_weights). Layers are in graph order (input side first). */
typedef struct {
  int32_t n_epochs;
  int32_t n_layers;
  const double *relative_change;
  const double *distance_from_init;
  const double *norm;
  const double *alpha;
  const double *learning_rate; /* n_epochs values or NULL: relative changes are divided by it */
} cs_weight_series;

/* The weight rule's parameters (see overfitting.c). */
#define CS_ONSET_WEIGHT_WINDOW 3        /* epochs ahead over which the plateau is judged */
#define CS_ONSET_WEIGHT_FLAT 1.2        /* "flat": falls by less than this factor over them */
#define CS_ONSET_WEIGHT_FALL 2.0        /* the fast phase must have divided it at least by this */

typedef struct {
  int32_t index;             /* the onset's index into the epochs, or -1 */
  double drop;               /* factor by which the signal fell from its first value to there */
  int32_t n_layers_used;
} cs_weight_onset;

/* Onset by weights alone; the rule and its reasoning are described in overfitting.c and by
 * cs_onset_explain. */
cs_weight_onset cs_onset_by_weights (const cs_weight_series *s);

/* The per-epoch signal the weight rule thresholds (n_epochs values, NaN where undefined),
 * exported for the app's timeline and for tests. */
void cs_onset_weight_signal (const cs_weight_series *s, double *signal);

/* val_loss - train_loss per epoch (NaN when either is missing). */
void cs_generalization_gap (const double *train_loss, const double *val_loss, int32_t n,
                            double *gap);

/* A plain-language explanation of both rules and their results (epoch numbers given by
 * `epochs`), written into buf. */
void cs_onset_explain (const int32_t *epochs, int32_t n, int32_t by_validation,
                       const cs_weight_onset *by_weights, char *buf, size_t size);
