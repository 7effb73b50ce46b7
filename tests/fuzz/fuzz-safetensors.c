/* Fuzz target: safetensors headers and data laid over a small model
 * (cs_safetensors_apply_memory). */
#include <stdlib.h>
#include <string.h>

#include "io/model_json.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* batchnorm (4 parameters of [2]) + flatten: ops that every build has */
static const char model_spec[] =
  "{\"format\":\"convscope-model/1\",\"input\":[2,3,3],\"nodes\":["
  "{\"name\":\"bn\",\"op\":\"batchnorm2d\"},{\"name\":\"flat\",\"op\":\"flatten\"}]}";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static cs_model *m;
  if (m == NULL)
    {
      cs_graph *g = cs_model_json_parse (model_spec, sizeof model_spec - 1, "fuzz-model.json", NULL);
      m = g != NULL ? cs_model_new (g, NULL) : NULL;
      cs_graph_unref (g);
      if (m == NULL)
        abort ();
    }
  cs_error err = { 0 };
  for (int allow = 0; allow < 2; allow++)
    if (cs_safetensors_apply_memory (m, data, size, "fuzz.safetensors", allow, &err) != CS_OK
        && strncmp (err.message, "fuzz.safetensors", 16) != 0)
      abort (); /* a failure must name the file */
  return 0;
}
