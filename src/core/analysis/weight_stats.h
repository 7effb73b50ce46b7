/* Weight statistics of one layer at one epoch: norms, change against the previous epoch and the
 * initialisation, per-filter change, and WeightWatcher's spectral metrics (power-law alpha of
 * the empirical spectral density, stable rank). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/graph.h"

/* A layer is a conv2d, gemm (linear) or matmul node whose weight is a parameter. Its filters
 * are its output channels: rows of a conv kernel [M, C, kh, kw] or of a linear [out, in]
 * weight, columns of a [in, out] weight (matmul, gemm without trans_b). */
typedef struct {
  int32_t node;              /* the layer's node id (layers are named by node name) */
  int32_t param;             /* index of its weight in the model's weights */
  int64_t numel;
  int64_t n_filters;         /* output channels */
  int64_t filter_size;       /* elements of one filter */
  bool filters_are_columns;  /* [in, out] layout: filter k is column k */
  /* The matrices of the spectrum: conv kernels give kh*kw slices W[:, :, i, j] of M x C;
   * linear layers one matrix. */
  int32_t n_slices;
  int64_t slice_rows, slice_cols;
} cs_weight_layer;

/* The layers of g in node order (*layers malloc'ed, NULL when there are none). */
cs_status cs_weight_layers_find (const cs_graph *g, cs_weight_layer **layers, int32_t *n_layers,
                                 cs_error *err);

/* Fewer tail eigenvalues than this give no power-law fit (alpha = NaN): the KS distance of a
 * handful of points is small by chance and would always pick a tiny tail. */
#define CS_POWERLAW_MIN_TAIL 10

typedef struct {
  double alpha;              /* NaN when there is no fit */
  double lambda_min;         /* the chosen lower bound of the tail */
  double ks;                 /* its Kolmogorov-Smirnov distance */
  int64_t n_tail;            /* eigenvalues >= lambda_min */
} cs_powerlaw_fit;

/* Fits p(x) ~ x^-alpha to the tail of eigs (sorted ascending, positive), as WeightWatcher does
 * with the `powerlaw` package: for every distinct candidate lambda_min whose tail holds at least
 * min_tail values, the continuous MLE (Clauset, Shalizi, Newman 2009)
 *   alpha = 1 + n / sum_i ln (lambda_i / lambda_min)
 * and the KS distance D = max_x |F_n(x) - P(x)| between the tail's empirical CDF and
 * P(x) = 1 - (x / lambda_min)^(1 - alpha), taken at both sides of every step of F_n; the
 * candidate with the smallest D wins (ties: the larger tail). O(n^2). Returns false (alpha NaN)
 * when no candidate qualifies. */
bool cs_powerlaw_fit_tail (const double *eigs, int64_t n, int64_t min_tail, cs_powerlaw_fit *fit);

/* The empirical spectral density of the layer's weight w: eigenvalues of X = W^T W / N for every
 * slice (N = the larger side of the slice, WeightWatcher's normalisation; alpha and the stable
 * rank do not depend on it), i.e. squared singular values (LAPACKE_sgesdd) / N, pooled over the
 * slices and sorted ascending. Numerical zeros (below 1e-10 of the largest) are dropped. */
cs_status cs_weight_spectrum (const cs_weight_layer *l, const float *w, double **eigs,
                              int64_t *n_eigs, cs_error *err);

/* Sum / max of the spectrum: ||W||_F^2 / ||W||_2^2 for a linear layer; for a conv kernel the
 * sum over slices divided by the largest slice eigenvalue (WeightWatcher's definition). */
double cs_spectrum_stable_rank (const double *eigs, int64_t n);

/* Statistics of one layer at one epoch; NaN where undefined (no previous epoch, zero norms). */
typedef struct {
  double norm;               /* ||W_t||_F */
  double relative_change;    /* ||W_t - W_{t-1}|| / ||W_{t-1}|| */
  double cosine_to_previous; /* <W_t, W_{t-1}> / (||W_t|| ||W_{t-1}||) */
  double distance_from_init; /* ||W_t - W_0|| */
  double rotation;           /* 1 - cos (W_t, W_0) */
  double alpha;              /* power-law exponent of the ESD */
  double lambda_min, ks;     /* of the alpha fit */
  double stable_rank;
  int64_t n_eigs;            /* eigenvalues in the ESD */
} cs_weight_epoch_stats;

/* w: this epoch's weight; prev: the previous epoch's (NULL at the first epoch); init: epoch 0's
 * (NULL when unavailable: distance and rotation are NaN).
 * filter_change (n_filters values, may be NULL): ||w_t[k] - w_{t-1}[k]|| / ||w_{t-1}[k]|| per
 * filter, NaN without prev. spectral = false skips alpha and the stable rank (NaN). */
cs_status cs_weight_epoch_compute (const cs_weight_layer *l, const float *w, const float *prev,
                                   const float *init, bool spectral, float *filter_change,
                                   cs_weight_epoch_stats *s, cs_error *err);
