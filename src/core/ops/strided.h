/* N-d strided copies shared by the layout ops: dims are merged wherever both sides are
 * contiguous, so the innermost loop is a memcpy (or a vector add) over the longest run. */
#pragma once

#include <stdint.h>

#include "base/tensor.h"

/* A box of dim[] elements walked on both sides with strides in floats (may be negative). */
typedef struct {
  int32_t ndim;
  int64_t dim[CS_MAX_DIMS];
  int64_t dst[CS_MAX_DIMS];
  int64_t src[CS_MAX_DIMS];
} cs_strided_box;

/* Row-major strides (in floats) of a contiguous tensor of shape s. */
void cs_strides_contiguous (const cs_shape *s, int64_t *strides);

/* dst = src over the box. */
void cs_strided_copy (float *dst, const float *src, const cs_strided_box *box);
/* dst += src over the box (backward of a copy). Each dst element must be hit at most once. */
void cs_strided_accumulate (float *dst, const float *src, const cs_strided_box *box);

/* dst[i] += src[i], i < n. */
void cs_floats_accumulate (float *dst, const float *src, int64_t n);
