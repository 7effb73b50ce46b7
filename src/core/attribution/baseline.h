/* Reference inputs x' for integrated gradients and occlusion.
 *
 * - zero: the all-zero input tensor (in the normalised space the network sees).
 * - blur: each channel blurred by a Gaussian of sigma = max(H, W) / 20 pixels (1.4 for 28x28,
 *   11.2 for 224x224), truncated at 3 sigma, separable, with edge pixels replicated beyond the
 *   border (scipy.ndimage mode "nearest"); weights normalised to sum 1.
 * - uniform: independent uniform values in [min, max) of the input tensor, drawn in (C,H,W)
 *   order from cs_rng seeded with `seed`. */
#pragma once

#include "attribution/attribution.h"

/* baseline of the same shape as input ([1,C,H,W] or (C,H,W)); allocated here. */
cs_status cs_baseline_make (cs_baseline kind, const cs_tensor *input, uint64_t seed,
                            cs_tensor *baseline, cs_error *err);

/* The blur's sigma for an H x W input. */
double cs_baseline_blur_sigma (int64_t height, int64_t width);
