/* How activation maximisation parameterises its images (Olah et al. 2017, "Feature
 * Visualization"): a spectrum scaled by 1/frequency (decorrelated in space), decorrelated
 * colours, and a sigmoid onto display range — or plain pixels — with the map back for gradients. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"
#include "base/status.h"
#include "base/tensor.h"

typedef enum {
  CS_IMAGE_PARAM_FOURIER = 0, /* scaled spectrum: each value is a complex coefficient */
  CS_IMAGE_PARAM_PIXEL,       /* one value per pixel (before the sigmoid) */
} cs_image_param_kind;

typedef struct {
  cs_image_param_kind kind;
  int32_t c, h, w;
  int64_t per_image;         /* parameter floats per image (2·C·H·W for Fourier, C·H·W for pixels) */
  float *scale;              /* Fourier: h×w, 1/max(|f|, 1/max(h,w)) */
  float *eh, *ew;            /* Fourier: complex e^{+2πi·k·y/h} (h×h), e^{+2πi·l·x/w} (w×w) */
  float *t1, *t2;            /* Fourier: complex h×w scratch */
  float *pre;                /* c×h×w: the image before the colour map and the sigmoid */
} cs_image_param;

cs_status cs_image_param_init (cs_image_param *p, cs_image_param_kind kind, int32_t c, int32_t h,
                               int32_t w, cs_error *err);
void cs_image_param_free (cs_image_param *p);

/* Random parameters for one image (normal, standard deviation sd). */
void cs_image_param_randomize (const cs_image_param *p, cs_rng *rng, float sd, float *params);

/* One image: params (per_image floats) -> rgb (c×h×w, in (0,1)). */
void cs_image_param_render (cs_image_param *p, const float *params, float *rgb);
/* The gradient of a score w.r.t. params (written) from its gradient w.r.t. rgb (grad_rgb) and
 * the rgb render returned. */
void cs_image_param_backward (cs_image_param *p, const float *rgb, const float *grad_rgb,
                              float *grad_params);

/* In place Gaussian blur of a c×h×w image (separable, edge-clamped): the pixel
 * parameterisation's regulariser (Yosinski et al. 2015). */
void cs_image_blur (float *img, int32_t c, int32_t h, int32_t w, float sigma, float *scratch);
