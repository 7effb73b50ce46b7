/* Validation-based ground truths of when to stop training: Prechelt's criteria ("Early stopping
 * — but when?", 1998: GL_alpha, PQ_alpha, UP_s), the epoch of best smoothed validation loss and
 * the test-optimal epoch. Every function takes per-epoch series indexed by epoch (index 0 = the
 * initialisation; consecutive epochs), NaN where undefined, and returns an index or -1. */
#pragma once

#include <stdint.h>

/* Prechelt's parameters used by the study (his paper's middle settings). */
#define CS_TRUTH_GL_ALPHA 2.0    /* GL_2: stop when validation loss is 2% above its minimum */
#define CS_TRUTH_PQ_ALPHA 1.0    /* PQ_1 */
#define CS_TRUTH_UP_S 2          /* UP_2 */
#define CS_TRUTH_STRIP 5         /* training strips of 5 epochs (PQ, UP) */
#define CS_TRUTH_SMOOTH 3        /* centred moving average of 3 epochs */

typedef enum {
  CS_TRUTH_BEST_SMOOTHED = 0,  /* argmin of the smoothed validation loss */
  CS_TRUTH_GL,
  CS_TRUTH_PQ,
  CS_TRUTH_UP,
  CS_TRUTH_TEST_OPTIMAL,       /* argmin of the test loss (a held-back split) */
  CS_N_TRUTHS,
} cs_truth_kind;

const char *cs_truth_name (cs_truth_kind k); /* "best-smoothed-val", "GL2", "PQ1", "UP2", "test-optimal" */

/* GL(t) = 100 (E_va(t) / min_{t' <= t} E_va(t') - 1); the first t >= 1 with GL(t) > alpha. */
int32_t cs_truth_gl (const double *val_loss, int32_t n, double alpha);
/* At the end of each strip of k epochs (t = k, 2k, ...): P_k(t) = 1000 (sum of the strip's
 * training losses / (k min of them) - 1); the first such t with GL(t) / P_k(t) > alpha. */
int32_t cs_truth_pq (const double *train_loss, const double *val_loss, int32_t n, int32_t k, double alpha);
/* The first strip end t at which validation loss rose in s successive strips:
 * E_va(t) > E_va(t - k), E_va(t - k) > E_va(t - 2k), ... s times. */
int32_t cs_truth_up (const double *val_loss, int32_t n, int32_t k, int32_t s);
/* argmin over t >= 1 of the centred moving average of `window` epochs (shrunk at the ends). */
int32_t cs_truth_best_smoothed (const double *val_loss, int32_t n, int32_t window);
/* argmin over t >= 1 of v (the first on ties); -1 when every value is NaN. */
int32_t cs_truth_argmin (const double *v, int32_t n);

/* All five with the study's parameters; test_loss may be NULL (test-optimal -1). */
void cs_truths_compute (const double *train_loss, const double *val_loss, const double *test_loss, int32_t n,
                        int32_t truths[CS_N_TRUTHS]);
