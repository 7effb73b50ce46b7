/* Shared by the image decoders (png.c, jpeg.c) and the dispatcher (image.c). */
#pragma once

#include "io/image.h"

#define CS_IMAGE_MAX_SIDE 16384

cs_status cs_png_decode (const uint8_t *data, size_t size, const char *name, cs_image *img,
                         cs_error *err);
cs_status cs_jpeg_decode (const uint8_t *data, size_t size, const char *name, cs_image *img,
                          cs_error *err);
/* Rejects dimensions past the cap, and pixel counts that the compressed data cannot
 * plausibly hold (so that a 20-byte header cannot make us allocate a gigabyte). */
cs_status cs_image_check_size (uint32_t width, uint32_t height, uint32_t channels, size_t data_size,
                               const char *name, cs_error *err);
