/* Training-time data augmentation: random crop from a zero-padded image and random horizontal
 * flip, as torchvision's RandomCrop(size, padding) + RandomHorizontalFlip() compose them. */
#pragma once

#include <stdint.h>

#include "base/status.h"

/* The padding of the random crop, in pixels (Fashion-MNIST's 28x28: shifts of up to 2). */
#define CS_AUGMENT_PAD 2

/* Augments the normalised batch x [n, c, h, w] in place. Padding is a raw pixel of 0, i.e.
 * (0 - mean) / std after normalisation, as torchvision pads before Normalize. Every sample
 * draws its shift and flip from (seed, its position in the batch): the same seed gives the same
 * batch. */
cs_status cs_augment_batch (float *x, int64_t n, int32_t c, int32_t h, int32_t w, const float *mean,
                            const float *std, uint64_t seed, cs_error *err);
