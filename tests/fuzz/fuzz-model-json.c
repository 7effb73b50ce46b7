/* Fuzz target: model.json parsing into a graph (cs_model_json_parse). */
#include <stdlib.h>
#include <string.h>

#include "io/model_json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_graph *g = cs_model_json_parse ((const char *) data, size, "fuzz.json", &err);
  if (g == NULL && (err.code == CS_OK || strncmp (err.message, "fuzz.json", 9) != 0))
    abort (); /* a failure must say why and name the file */
  cs_graph_unref (g);
  return 0;
}
