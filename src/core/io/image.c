/* Image decoding by content: the magic bytes pick the PNG or JPEG decoder. */
#include "io/image-private.h"

#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

#define IMAGE_MAX_FILE ((size_t) 1 << 30)
#define IMAGE_PLAIN_BYTES ((uint64_t) 64 << 20) /* below this, no plausibility check */
#define IMAGE_MAX_RATIO 1100                    /* deflate's best is ~1032:1 */

cs_status
cs_image_check_size (uint32_t width, uint32_t height, uint32_t channels, size_t data_size,
                     const char *name, cs_error *err)
{
  if (width == 0 || height == 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: image has no pixels", name);
  if (width > CS_IMAGE_MAX_SIDE || height > CS_IMAGE_MAX_SIDE)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: image of %ux%u is larger than %dx%d", name,
                         (unsigned) width, (unsigned) height, CS_IMAGE_MAX_SIDE, CS_IMAGE_MAX_SIDE);
  uint64_t bytes = (uint64_t) width * height * channels;
  if (bytes > IMAGE_PLAIN_BYTES && bytes / IMAGE_MAX_RATIO > data_size)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: %zu bytes of data cannot hold a %ux%u image",
                         name, data_size, (unsigned) width, (unsigned) height);
  return CS_OK;
}

cs_status
cs_image_decode (const uint8_t *data, size_t size, const char *name, cs_image *img, cs_error *err)
{
  memset (img, 0, sizeof *img);
  if (size >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return cs_png_decode (data, size, name, img, err);
  if (size >= 3 && memcmp (data, "\xff\xd8\xff", 3) == 0)
    return cs_jpeg_decode (data, size, name, img, err);
  return cs_error_set (err, CS_ERR_FORMAT, "%s: not a PNG or JPEG image", name);
}

cs_status
cs_image_load (const char *path, cs_image *img, cs_error *err)
{
  uint8_t *data;
  size_t size;
  memset (img, 0, sizeof *img);
  cs_status st = cs_file_read_all (path, IMAGE_MAX_FILE, &data, &size, err);
  if (st != CS_OK)
    return st;
  st = cs_image_decode (data, size, path, img, err);
  free (data);
  return st;
}

void
cs_image_free (cs_image *img)
{
  if (img == NULL)
    return;
  free (img->pixels);
  memset (img, 0, sizeof *img);
}
