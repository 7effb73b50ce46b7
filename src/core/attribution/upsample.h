/* Bilinear resizing with half-pixel centres, exactly as PyTorch's F.interpolate (mode='bilinear',
 * align_corners=False), and min-max normalisation: how every CAM and RISE map reaches the
 * input's resolution. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "base/tensor.h"

/* Resizes the h×w map src to full_h×full_w and writes the window of out_h×out_w pixels that
 * starts at row y0, column x0 of that full-size image into dst (row-major). With y0 = x0 = 0
 * and out = full it is a plain resize; RISE crops its shifted masks this way without building
 * the larger image. Source positions below 0 are clamped to 0 and the last row/column is
 * repeated, as PyTorch does. */
void cs_upsample_bilinear_window (const float *src, int64_t h, int64_t w, int64_t full_h,
                                  int64_t full_w, int64_t y0, int64_t x0, int64_t out_h,
                                  int64_t out_w, float *dst);

static inline void
cs_upsample_bilinear (const float *src, int64_t h, int64_t w, float *dst, int64_t out_h,
                      int64_t out_w)
{
  cs_upsample_bilinear_window (src, h, w, out_h, out_w, 0, 0, out_h, out_w, dst);
}

/* Rescales the n values of x in place to [0, 1] by (x - min) / (max - min). A constant map (or
 * one with a non-finite value) becomes all zeros and the function returns false.
 * (Named apart from map.c's normalisation, which serves the pixel methods' display maps.) */
bool cs_upsample_minmax (float *x, int64_t n);

/* The displayed map of a CAM method: raw (h,w) resized to (height,width), then min-max
 * normalised. Allocates map. */
cs_status cs_upsample_cam_map (const cs_tensor *raw, int64_t height, int64_t width,
                               cs_tensor *map, cs_error *err);
