/* Fuzz target: gzip-compressed IDX files. The input is the uncompressed file: the target
 * compresses it, so that mutations land in the IDX header and payload behind a valid gzip
 * stream (mutating compressed bytes mostly tests the CRC), then also loads the stream cut
 * short at a point the input picks, as a download interrupted or a disk filled would. */
#include "fuzz-file.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
load (const uint8_t *gz, size_t size)
{
  char path[64];
  int fd = fuzz_file (gz, size, path, sizeof path);
  if (fd < 0)
    return;
  cs_idx idx;
  cs_error err = { 0 };
  if (cs_idx_load (path, &idx, &err) == CS_OK)
    cs_idx_free (&idx);
  else if (err.code == CS_OK || strncmp (err.message, path, strlen (path)) != 0)
    abort (); /* a failure must say why and name the file */
  close (fd);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  z_stream z = { 0 };
  /* 15 + 16: a gzip wrapper, as gzip(1) writes */
  if (deflateInit2 (&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return 0;
  uLong cap = deflateBound (&z, (uLong) size);
  uint8_t *out = malloc (cap);
  if (out == NULL)
    {
      deflateEnd (&z);
      return 0;
    }
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) size;
  z.next_out = out;
  z.avail_out = (uInt) cap;
  int r = deflate (&z, Z_FINISH);
  size_t n = z.total_out;
  deflateEnd (&z);
  if (r == Z_STREAM_END)
    {
      load (out, n);
      /* the last input byte picks where the stream is cut */
      if (size > 0 && n > 0)
        load (out, (n * data[size - 1]) / 256);
    }
  free (out);
  return 0;
}
