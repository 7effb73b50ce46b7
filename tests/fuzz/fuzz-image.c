/* Fuzz target: PNG/JPEG decoding (cs_image_decode) and the preprocessing of what decodes. */
#include <stdlib.h>
#include <string.h>

#include "io/image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_image img;
  if (cs_image_decode (data, size, "fuzz.img", &img, &err) != CS_OK)
    {
      if (strncmp (err.message, "fuzz.img", 8) != 0 || img.pixels != NULL)
        abort ();
      return 0;
    }
  cs_tensor t;
  for (int c = 1; c <= 3; c += 2)
    if (cs_image_to_tensor (&img, c, 7, 5, NULL, NULL, &t, &err) == CS_OK)
      cs_tensor_free (&t);
    else
      abort (); /* a decoded image always converts */
  cs_image_free (&img);
  return 0;
}
