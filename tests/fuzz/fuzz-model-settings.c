/* Fuzz target: a model's preprocessing sidecar (<model>.convscope.json, cs_model_settings_parse).
 * Accepted settings must be usable (finite mean, positive std, 1 to 4 channels) and survive a
 * round trip through the writer unchanged. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_settings.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_model_settings s;
  memset (&s, 0, sizeof s);
  if (cs_model_settings_parse ((const char *) data, size, "fuzz.json", &s, &err) != CS_OK)
    {
      if (err.code == CS_OK || strncmp (err.message, "fuzz.json", 9) != 0)
        abort (); /* a failure must say why and name the file */
      return 0;
    }
  if (s.channels < 1 || s.channels > 4 || s.resize < 0 || memchr (s.preset, '\0', sizeof s.preset) == NULL)
    abort ();
  for (int32_t c = 0; c < s.channels; c++)
    if (!isfinite (s.mean[c]) || !(s.std[c] > 0) || !isfinite (s.std[c]))
      abort ();
  char *json = cs_model_settings_to_json (&s);
  cs_model_settings back;
  memset (&back, 0, sizeof back);
  if (json == NULL
      || cs_model_settings_parse (json, strlen (json), "fuzz.json", &back, &err) != CS_OK
      || back.channels != s.channels || back.resize != s.resize
      || strcmp (back.preset, s.preset) != 0
      || memcmp (back.mean, s.mean, sizeof (float) * (size_t) s.channels) != 0
      || memcmp (back.std, s.std, sizeof (float) * (size_t) s.channels) != 0)
    abort (); /* what the writer writes, the parser reads back as it was */
  free (json);
  return 0;
}
