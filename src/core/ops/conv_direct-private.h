/* What the direct first-layer conv's forward (conv_direct.c) and input gradient
 * (conv_direct_grad.c) share: the zero-padded, phase-split layout of one sample's input. */
#pragma once

#include <stdint.h>

#include "ops/conv_direct.h"

/* The path is for layers whose patch matrix is tall and thin: ResNet's 7x7/2 stem over RGB has
 * 147 rows of 12544 columns, 7.4 MB written by im2col and read back by a GEMM whose inner
 * dimension is too short for OpenBLAS's packing to pay. */
#define CS_DIRECT_MAX_CHANNELS 4
#define CS_DIRECT_MAX_TAPS 160
/* The input gradient packs one 16-pixel block of every output channel on the stack (32 KB). */
#define CS_DIRECT_MAX_OUT_CHANNELS 512
/* Pixels of the widest kernel's block: the padded rows are sized for it, and the weights are
 * padded to as many output channels (forward) or taps (input gradient). */
#define CS_DIRECT_LANES 16
/* Samples' padded maps prepared at once, at most this many floats (unless one needs more). */
#define CS_DIRECT_CHUNK_BUDGET ((int64_t) 1 << 20)
/* Below this many multiply-adds a call runs on one thread. */
#define CS_DIRECT_PARALLEL_MIN_MACS ((int64_t) 1 << 20)

/* Padded map of one sample: [channel][row][phase][len], where row r is input row r - pad_top
 * and entry j of phase p is input column j * stride_w + p - pad_left (zero outside the input).
 * Tap (ki, kj) of output pixel ow of output row oh is then row oh * stride_h + ki, phase
 * kj % stride_w, entry ow + kj / stride_w. */
typedef struct {
  int64_t rows, phases, len;
  int64_t blocks;            /* CS_DIRECT_LANES-pixel blocks per output row */
  int64_t sample;            /* floats of one sample's padded map */
  int64_t taps;              /* channels * kernel_h * kernel_w */
  int64_t co_pad;            /* output channels rounded up to CS_DIRECT_LANES */
  int64_t taps_pad;          /* taps rounded up to CS_DIRECT_LANES */
  int64_t chunk;             /* samples padded at once */
} cs_direct_layout;

cs_direct_layout cs_direct_layout_of (const cs_conv_geom *g, int64_t out_channels, int64_t batch);

/* Where entry j of phase p of padded row r of channel c lies in a sample's padded map. */
static inline int64_t
cs_direct_at (const cs_direct_layout *L, int64_t c, int64_t r, int64_t p, int64_t j)
{
  return ((c * L->rows + r) * L->phases + p) * L->len + j;
}
