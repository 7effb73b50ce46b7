/* Simple map rendering for the CLI: a few colormaps and an alpha overlay, as 8-bit RGB. */
#pragma once

#include <stdint.h>

#include "base/tensor.h"

typedef enum { CLI_CMAP_JET, CLI_CMAP_VIRIDIS, CLI_CMAP_INFERNO, CLI_CMAP_GRAY } cli_colormap;

extern const char *const cli_colormap_names[]; /* NULL-terminated, in enum order */

/* Colours a map in [0,1] (h*w floats) into rgb (3*h*w bytes). */
void cli_render_map (const float *map, int32_t h, int32_t w, cli_colormap cmap, uint8_t *rgb);

/* Blends the coloured map over an RGB image of bw x bh: the map is resampled bilinearly with
 * half-pixel centres to the image's size; out = (1 - alpha) * image + alpha * colour. */
void cli_render_overlay (const uint8_t *base, int32_t bw, int32_t bh, const float *map, int32_t h,
                         int32_t w, cli_colormap cmap, float alpha, uint8_t *out);

/* An input tensor [1, C, H, W] as an RGB picture (per-channel min-max; grey replicated). */
void cli_render_tensor (const cs_tensor *x, uint8_t *rgb);
