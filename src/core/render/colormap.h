/* Colormaps: a value in [0,1] (or [-1,1] for the diverging map) to an sRGB colour. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum {
  CS_COLORMAP_JET = 0,        /* MATLAB's jet, as matplotlib draws it */
  CS_COLORMAP_VIRIDIS,        /* perceptually uniform; the default */
  CS_COLORMAP_INFERNO,        /* perceptually uniform, black to pale yellow */
  CS_COLORMAP_GRAY,
  CS_COLORMAP_DIVERGING,      /* blue - white - red for signed maps: -1 blue, 0 white, +1 red */
  CS_COLORMAP_COUNT
} cs_colormap;

#define CS_COLORMAP_DEFAULT CS_COLORMAP_VIRIDIS

const char *cs_colormap_name (cs_colormap c);       /* "jet", "viridis", ..., "diverging" */
cs_colormap cs_colormap_from_name (const char *name); /* CS_COLORMAP_COUNT when unknown */
bool cs_colormap_is_signed (cs_colormap c);          /* takes values in [-1,1] */

/* The colour of v as floats in [0,1]: v in [0,1] ([-1,1] for a signed map), clamped; a
 * non-finite v gets the colour of 0. Tables are interpolated linearly between entries. */
void cs_colormap_lookupf (cs_colormap c, float v, float rgb[3]);
void cs_colormap_lookup (cs_colormap c, float v, uint8_t rgb[3]);

/* n values to n opaque RGBA8 pixels. */
void cs_colormap_apply (cs_colormap c, const float *values, int64_t n, uint8_t *rgba);
