/* Direct conv2d forward for a network's first layer (few input channels, e.g. ResNet's 7x7/2
 * stem over RGB): no patch matrix, output pixels accumulated in vector registers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ops/im2col.h"

/* The vector kernels, best first; CS_CONV_DIRECT_NONE means this CPU has neither. */
typedef enum {
  CS_CONV_DIRECT_NONE,
  CS_CONV_DIRECT_AVX2,
  CS_CONV_DIRECT_AVX512,
} cs_conv_direct_isa;

/* The kernel the direct path uses on this CPU (AVX-512F, else AVX2 with FMA). Chosen from the
 * CPU, not from OPENBLAS_CORETYPE: that variable steers OpenBLAS's own kernels only. */
cs_conv_direct_isa cs_conv_direct_isa_of_cpu (void);

/* Whether an ungrouped conv of this geometry takes the direct path: undilated, horizontal
 * stride 1 or 2, at most 4 input channels, 160 weights per output channel and 512 output
 * channels, on a CPU with one of the kernels. Not the batch or the map's size: incremental
 * occlusion recomputes crops of a layer and must sum them as the whole map was. */
bool cs_conv_direct_fits (const cs_conv_geom *g, int64_t out_channels);

/* Floats of scratch for `batch` samples, for the forward or the input gradient: the zero-padded
 * map split by column phase, and the weights rearranged. */
int64_t cs_conv_direct_workspace (const cs_conv_geom *g, int64_t out_channels, int64_t batch);

/* y[n, m, oh, ow] = b[m] (or 0) + sum over c, ki, kj of w[m, c, ki, kj] *
 * x[n, c, oh*stride_h + ki - pad_top, ow*stride_w + kj - pad_left] (x zero outside), with the
 * given kernel (which must be available on this CPU). Sums taps in (c, ki, kj) order. */
void cs_conv_direct_forward (cs_conv_direct_isa isa, const cs_conv_geom *g, int64_t out_channels,
                             int64_t batch, const float *x, const float *w, const float *b,
                             float *y, float *work);

/* The input gradient of that conv: dx[n, c, ih, iw] (=, or += when accumulate) sum over m, ki,
 * kj of w[m, c, ki, kj] * dy[n, m, oh, ow] where ih = oh*stride_h + ki - pad_top and
 * iw = ow*stride_w + kj - pad_left. Accumulated in a padded map like the forward's input, so
 * no patch matrix is written and scattered back. */
void cs_conv_direct_input_grad (cs_conv_direct_isa isa, const cs_conv_geom *g,
                                int64_t out_channels, int64_t batch, const float *dy,
                                const float *w, float *dx, bool accumulate, float *work);
