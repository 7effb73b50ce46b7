/* IDX files (the MNIST format), plain or gzip-compressed: unsigned-byte arrays of 1 to 4 dims. */
#pragma once

#include <stdint.h>

#include "base/status.h"

/* The largest IDX payload we agree to read (MNIST's training images are 47 MB). */
#define CS_IDX_MAX_BYTES ((int64_t) 1 << 30)

typedef struct {
  int32_t ndim;
  int64_t dim[4];
  int64_t size;              /* product of dims */
  uint8_t *data;             /* size bytes, row-major */
} cs_idx;

/* Reads path (gzip or not, detected from the content). Checks the magic (type 0x08, unsigned
 * byte), the dims against CS_IDX_MAX_BYTES, and that the payload holds exactly the dims'
 * product: errors name the file and say "truncated", "trailing data", "not an IDX file" ... */
cs_status cs_idx_load (const char *path, cs_idx *out, cs_error *err);
void cs_idx_free (cs_idx *idx);
