/* im2col / col2im for NCHW convolutions: the patch matrix that turns a conv into one GEMM. */
#pragma once

#include <stdint.h>

/* One image's convolution geometry. pad_top/pad_left only: bottom/right padding is implied
 * by out_h/out_w (anything read beyond the input is zero). */
typedef struct {
  int64_t channels, height, width;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left;
  int64_t dilation_h, dilation_w;
  int64_t out_h, out_w;
} cs_conv_geom;

/* Writes the patch matrix of samples x + s * sample_stride (s in [0, count)): row
 * (c, ki, kj) of channels*kernel_h*kernel_w rows, column s * out_h*out_w + oh*out_w + ow, with
 * leading dimension ld (>= count * out_h*out_w). Zeros where the patch reads padding. */
void cs_im2col (const cs_conv_geom *g, const float *x, int64_t sample_stride, int64_t count,
                float *col, int64_t ld);

/* The adjoint of cs_im2col: ADDS each column entry back into the input position it was read
 * from (dx + s * sample_stride). Padding entries are dropped, and may be overwritten in col
 * (scratch to the caller). */
void cs_col2im (const cs_conv_geom *g, float *col, int64_t ld, int64_t count,
                float *dx, int64_t sample_stride);
