/* The input tensor as a picture, and an attribution map blended over it (RGBA8). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/tensor.h"
#include "render/colormap.h"

typedef struct {
  cs_colormap colormap;
  float alpha;               /* opacity of the map in [0,1] */
  bool grayscale;            /* show the input in grayscale under the map */
} cs_overlay_options;

#define CS_OVERLAY_OPTIONS_DEFAULT ((cs_overlay_options) { .colormap = CS_COLORMAP_DEFAULT, \
  .alpha = 0.5f, .grayscale = false })

/* input [1,C,H,W] or (C,H,W) as H×W opaque RGBA8: de-normalised with x·std[c] + mean[c]
 * (mean/std may be NULL: 0 and 1), clipped to [0,1]. One channel is shown gray, three or more
 * as RGB (the first three), two as gray from their mean. grayscale converts to ITU-R 601 luma.
 * A tensor whose de-normalised values leave [0,1] by more than 5% (a .npy input without
 * known normalisation) is min-max rescaled as a whole instead, so it stays visible. */
cs_status cs_render_input (const cs_tensor *input, const float *mean, const float *std,
                           bool grayscale, uint8_t *rgba, cs_error *err);

/* out = (1 - alpha)·base + alpha·colour(map), per channel, opaque; base and out are
 * width×height RGBA8 (out may be base). map is map_h×map_w; it is resampled bilinearly with
 * half-pixel centres when its size differs from the picture's. */
cs_status cs_render_overlay (const uint8_t *base, int32_t width, int32_t height, const float *map,
                             int32_t map_h, int32_t map_w, const cs_overlay_options *o,
                             uint8_t *out, cs_error *err);

/* A signed (H,W) plane from a raw attribution for the diverging map: (C,H,W) is summed over
 * channels; the result is divided by the 99th percentile of |v| (the maximum when that is 0)
 * and clipped to [-1,1]. plane is allocated here, (H,W). */
cs_status cs_render_signed_plane (const cs_tensor *raw, cs_tensor *plane, cs_error *err);
