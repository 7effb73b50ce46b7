/* Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped convs: 2.25x fewer multiplies than
 * im2col + GEMM, as 16 GEMMs. Serves conv2d forward and its input gradient. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  int64_t batch, in_channels, height, width;
  int64_t out_channels, out_h, out_w;
  int64_t pad_top, pad_left;   /* may be negative; bottom/right padding is implied by out_h/out_w */
  bool transposed;             /* the input-gradient conv of a forward conv whose weight is
                                * w[in_channels, out_channels, 3, 3]: its kernel is
                                * w'[o, i, a, b] = w[i, o, 2-a, 2-b] */
} cs_winograd_conv;

/* Floats of the transformed weights: 16 * out_channels * in_channels. */
int64_t cs_winograd_weights_size (const cs_winograd_conv *c);
/* Transforms w[out_channels, in_channels, 3, 3] of a forward (not transposed) conv into u. */
void cs_winograd_weights (const cs_winograd_conv *c, const float *w, float *u);

/* Floats of scratch cs_winograd_run needs (the transformed weights not included). */
int64_t cs_winograd_workspace (const cs_winograd_conv *c);

/* y[n, o, i, j] (=, or += when accumulate) sum over in-channel k and the 3x3 window of
 * x[n, k, i - pad_top + a, j - pad_left + b] * w[o, k, a, b] (+ bias[o] if bias != NULL), with
 * x zero outside its extent. u holds the transformed weights of the forward conv, from
 * cs_winograd_weights; a transposed conv reads the same u (flipping a 3x3 kernel only permutes
 * its transform), so the input gradient reuses what the forward computed. */
void cs_winograd_run (const cs_winograd_conv *c, const float *x, const float *u,
                      const float *bias, float *y, bool accumulate, float *work);

/* How cs_winograd_run goes about a conv. */
typedef struct {
  bool private_chunks; /* each thread transforms, multiplies and transforms back chunks of its
                        * own (small weights), rather than the team splitting each stage */
  bool avx512;         /* AVX-512 tile transforms: only where cs_sgemm_avx512_available */
} cs_winograd_path;

/* The path cs_winograd_run takes for c on this CPU. */
cs_winograd_path cs_winograd_path_for (const cs_winograd_conv *c);
/* cs_winograd_run by the given path (tests try each): every path gives the same bits, for any
 * number of threads. */
void cs_winograd_run_path (const cs_winograd_conv *c, cs_winograd_path path, const float *x,
                           const float *u, const float *bias, float *y, bool accumulate,
                           float *work);
