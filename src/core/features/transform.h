/* Transformation robustness for activation maximisation: a random shift, scale and rotation
 * applied by bilinear resampling, and its adjoint to map gradients back onto the image. */
#pragma once

#include <stdint.h>

#include "base/rng.h"

typedef struct {
  float shift_x, shift_y;    /* pixels, whole numbers so that a pure shift stays sharp */
  float scale;               /* > 0 */
  float angle;               /* radians */
} cs_transform;

/* Draws a transform: shifts uniform in [-jitter, jitter], scale in [1 - scale_range,
 * 1 + scale_range], angle in ±max_degrees. */
cs_transform cs_transform_random (cs_rng *rng, int32_t jitter, float scale_range, float max_degrees);

/* out = the c×h×w image `in` seen through t about its centre; samples outside are `fill`. The
 * identity transform copies exactly. */
void cs_transform_apply (const cs_transform *t, const float *in, int32_t c, int32_t h, int32_t w,
                         float fill, float *out);
/* grad_in += the adjoint of cs_transform_apply applied to grad_out. */
void cs_transform_adjoint (const cs_transform *t, const float *grad_out, int32_t c, int32_t h,
                           int32_t w, float *grad_in);
