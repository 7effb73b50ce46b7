/* From raw attributions to the displayed (H,W) map in [0,1] (docs/methods.md, --save-map). */
#pragma once

#include "base/tensor.h"

typedef enum {
  CS_REDUCE_MAX_ABS = 0,   /* max over channels of |v|: gradient-only methods */
  CS_REDUCE_SUM_ABS,       /* sum over channels of |v|: input-multiplied methods */
} cs_channel_reduce;

/* (C,H,W) -> (H,W): out is allocated here. */
cs_status cs_map_reduce_channels (const cs_tensor *chw, cs_channel_reduce how, cs_tensor *out,
                                  cs_error *err);

/* The q-quantile (q in [0,1]) of t's values with numpy's default (linear) interpolation:
 * position q*(n-1) in the sorted values. Returns 0 for an empty tensor or on allocation failure
 * (*ok = false then, when ok is non-NULL). */
float cs_map_quantile (const cs_tensor *t, double q, bool *ok);

/* In place: v / (99th percentile of v), clipped to [0,1]. When the percentile is 0 the maximum
 * is used instead; an all-zero map stays zero. Values are expected non-negative. */
cs_status cs_map_scale_percentile (cs_tensor *hw, cs_error *err);

/* In place: (v - min) / (max - min); a constant map becomes all zeros. */
void cs_map_normalize_minmax (cs_tensor *hw);

/* The displayed map of a pixel method: reduce the (C,H,W) raw attribution over channels with
 * `how`, then scale by the 99th percentile and clip. map is allocated here. */
cs_status cs_map_from_pixels (const cs_tensor *raw, cs_channel_reduce how, cs_tensor *map,
                              cs_error *err);
