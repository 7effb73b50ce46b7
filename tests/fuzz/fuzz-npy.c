/* Fuzz target: .npy parsing (cs_npy_parse). Any bytes give a tensor or an error naming the file. */
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_tensor t;
  if (cs_npy_parse (data, size, "fuzz.npy", &t, &err) != CS_OK)
    {
      if (strncmp (err.message, "fuzz.npy", 8) != 0 || t.data != NULL)
        abort (); /* a failure must name the file and leave nothing allocated */
      return 0;
    }
  /* touch every element: a short buffer would show here under ASan */
  volatile float sum = 0;
  for (int64_t i = 0; i < cs_tensor_numel (&t); i++)
    sum += t.data[i];
  cs_tensor_free (&t);
  return 0;
}
