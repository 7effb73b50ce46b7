/* The gradient strip of a colour bar (the sheet draws its frame and labels with Cairo). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "render/colormap.h"

/* width×height opaque RGBA8: low to high from left to right, or from bottom to top when
 * vertical. A signed map runs from -1 to 1. */
void cs_colorbar_pixels (cs_colormap c, bool vertical, int32_t width, int32_t height, uint8_t *rgba);
