/* Fuzz target: run.json parsing (cs_run_parse), the run directory's index of epochs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/run.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_run *run = cs_run_parse ((const char *) data, size, "fuzz.json", "run", &err);
  if (run == NULL && (err.code == CS_OK || strncmp (err.message, "fuzz.json", 9) != 0))
    abort (); /* a failure must say why and name the file */
  if (run != NULL)
    {
      /* what every reader does next: walk the epochs and look one up */
      for (int32_t e = 0; e < run->n_epochs; e++)
        if (run->epochs[e].checkpoint == NULL
            || cs_run_epoch_index (run, run->epochs[e].epoch) != e)
          abort ();
      (void) cs_run_epoch_index (run, -1);
    }
  cs_run_free (run);
  return 0;
}
