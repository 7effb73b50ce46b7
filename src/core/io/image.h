/* Images: PNG (libpng) and JPEG (libjpeg-turbo) decoding, preprocessing into an input tensor,
 * PNG writing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/model.h"

typedef struct {
  int32_t width, height;
  int32_t channels;          /* 1 (gray) or 3 (RGB); alpha is composited over white */
  uint8_t *pixels;           /* row-major, interleaved */
} cs_image;

/* Decodes by content (magic bytes), not by extension; caps images at 16384 x 16384. */
cs_status cs_image_load (const char *path, cs_image *img, cs_error *err);
cs_status cs_image_decode (const uint8_t *data, size_t size, const char *name, cs_image *img,
                           cs_error *err);
void cs_image_free (cs_image *img);

/* docs/formats/images.md: bilinear resize (half-pixel centres) to height x width, conversion to
 * `channels` (gray <-> RGB by ITU-R 601 luma / replication), scale to [0,1], then
 * (x - mean[c]) / std[c]. out becomes [1, channels, height, width]. */
cs_status cs_image_to_tensor (const cs_image *img, int32_t channels, int32_t height, int32_t width,
                              const float *mean, const float *std, cs_tensor *out, cs_error *err);

/* cs_image_to_tensor for m: its channels, size, mean/std (overridden when non-NULL) and its
 * resize (torchvision's Resize(m->resize) then CenterCrop to the input size). */
cs_status cs_image_for_model (const cs_image *img, const cs_model *m, const float *mean,
                              const float *std, cs_tensor *out, cs_error *err);
/* The image the model sees (resized, cropped, converted to its channels; not normalised). */
cs_status cs_image_model_view (const cs_image *img, const cs_model *m, cs_image *out,
                               cs_error *err);
/* When preprocessing changes what the model sees (channel conversion, resampling, crop),
 * writes one English sentence saying how into buf and returns true. */
bool cs_image_describe_preprocessing (const cs_image *img, const cs_model *m, char *buf,
                                      size_t size);

/* An INPUT argument: PNG/JPEG preprocessed for m (mean/std override m's when non-NULL), or a
 * .npy float32 array of shape (C,H,W) or (1,C,H,W) used as is (checked against m's input). */
cs_status cs_input_load (const char *path, const cs_model *m, const float *mean, const float *std,
                         cs_tensor *out, cs_error *err);
/* The same, writing cs_image_describe_preprocessing's sentence into note ("" when none). */
cs_status cs_input_load_noted (const char *path, const cs_model *m, const float *mean,
                               const float *std, cs_tensor *out, char *note, size_t note_size,
                               cs_error *err);

/* Writes 8-bit RGBA (stride = 4*width) or RGB (channels 3) as PNG, atomically. */
cs_status cs_png_save (const char *path, const uint8_t *pixels, int32_t width, int32_t height,
                       int32_t channels, cs_error *err);
