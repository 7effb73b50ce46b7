/* Flatten's shape inference on an empty input whose other dims are absurd (what an ONNX file can
 * declare through a zero-sized constant): a clean CS_ERR_LIMIT, never a signed overflow. Run
 * under UBSan (the sanitizer build) an overflow fails the test. */
#include <stdint.h>
#include <string.h>

#include "graph/ops.h"
#include "testlib.h"

static cs_status
infer (const cs_shape *x, int32_t axis, cs_shape *out, cs_error *err)
{
  cs_node node;
  memset (&node, 0, sizeof node);
  node.op = CS_OP_FLATTEN;
  node.attrs = cs_attrs_default (CS_OP_FLATTEN);
  node.attrs.axis.axis = axis;
  const cs_shape *in[1] = { x };
  return cs_op_get (CS_OP_FLATTEN)->infer (&node, in, out, err);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_shape out;
  const int64_t big = INT64_C (1) << 40;
  cs_shape empty = cs_shape_make (4, (int64_t[]) { 1, big, big, 0 });
  CHECK (infer (&empty, 1, &out, &err) == CS_ERR_LIMIT, "[1, 2^40, 2^40, 0] axis 1: %s", err.message);
  cs_shape front = cs_shape_make (4, (int64_t[]) { big, big, 0, 3 });
  CHECK (infer (&front, 2, &out, &err) == CS_ERR_LIMIT, "[2^40, 2^40, 0, 3] axis 2: %s", err.message);
  cs_shape ok = cs_shape_make (4, (int64_t[]) { 2, 3, 4, 5 });
  CHECK (infer (&ok, 1, &out, &err) == CS_OK && out.ndim == 2 && out.dim[0] == 2 && out.dim[1] == 60,
         "[2, 3, 4, 5] axis 1 gives [2, 60]");
  cs_shape zero = cs_shape_make (3, (int64_t[]) { 1, 0, 7 });
  CHECK (infer (&zero, 1, &out, &err) == CS_OK && out.dim[0] == 1 && out.dim[1] == 0,
         "an empty input of sane dims still flattens: %s", err.message);
  return test_done ();
}
