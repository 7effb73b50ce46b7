/* matplotlib's published 256-entry tables (sRGB in [0,1]), shared by colormap.c only. */
#pragma once

extern const float cs_colormap_viridis[256][3];
extern const float cs_colormap_inferno[256][3];
