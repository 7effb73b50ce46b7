/* Fuzz target: IDX files as stored (cs_idx_load), raw or gzip: the seeds hold both, so the
 * fuzzer reaches the header checks as well as zlib's handling of damaged streams. */
#include "fuzz-file.h"

#include <stdlib.h>
#include <string.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char path[64];
  int fd = fuzz_file (data, size, path, sizeof path);
  if (fd < 0)
    return 0;
  cs_idx idx;
  cs_error err = { 0 };
  if (cs_idx_load (path, &idx, &err) != CS_OK)
    {
      if (err.code == CS_OK || strncmp (err.message, path, strlen (path)) != 0)
        abort (); /* a failure must say why and name the file */
    }
  else
    {
      int64_t n = 1;
      for (int32_t d = 0; d < idx.ndim; d++)
        n *= idx.dim[d];
      if (n != idx.size || n > CS_IDX_MAX_BYTES)
        abort ();
      /* touch every byte, so that ASan sees a payload shorter than announced */
      volatile uint8_t sum = 0;
      for (int64_t i = 0; i < n; i++)
        sum += idx.data[i];
      cs_idx_free (&idx);
    }
  close (fd);
  return 0;
}
