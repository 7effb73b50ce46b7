/* Fuzz target: safetensors headers and data laid over a small model
 * (cs_safetensors_apply_memory). */
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Parameters as a batchnorm2d "bn" over 2 channels has them, in a graph of no operators (the
 * input is the output), so that the target depends on no op family. */
static cs_model *
make_model (void)
{
  static const char *const names[] = { "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var" };
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_make (2, (int64_t[]) { 1, 2 }), two = cs_shape_make (1, (int64_t[]) { 2 });
  int32_t x = cs_graph_add_input (g, "input", &in, NULL);
  for (int i = 0; i < 4; i++)
    cs_graph_add_param (g, names[i], &two, NULL);
  g->output_node = x;
  cs_model *m = cs_model_new (g, NULL);
  cs_graph_unref (g);
  return m;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static cs_model *m;
  if (m == NULL)
    {
      m = make_model ();
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
