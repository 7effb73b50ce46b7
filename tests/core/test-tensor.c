/* Tensors: size bounds, shapes, allocation. */
#include <string.h>

#include "base/tensor.h"
#include "testlib.h"

int
main (void)
{
  cs_error err = { 0 };
  cs_tensor t;
  cs_shape s = cs_shape_4d (2, 3, 4, 5);
  CHECK (cs_shape_numel (&s) == 120, "numel of [2,3,4,5] is 120");
  CHECK (cs_tensor_alloc (&t, &s, &err) == CS_OK, "allocate 120 floats");
  CHECK (((uintptr_t) t.data & 63) == 0, "data is 64-byte aligned");
  CHECK (t.data[119] == 0.0f, "data is zero-filled");
  cs_tensor_free (&t);
  CHECK (t.data == NULL, "free clears the tensor");
  cs_tensor_free (&t);

  cs_shape huge = cs_shape_make (4, (int64_t[]) { 100000, 100000, 100, 1 });
  CHECK (cs_shape_numel (&huge) == -1, "a 10^12-element shape is out of range");
  CHECK (cs_tensor_alloc (&t, &huge, &err) == CS_ERR_LIMIT, "allocating it fails: %s", err.message);
  cs_shape overflow = cs_shape_make (4, (int64_t[]) { INT64_MAX / 2, 4, 4, 4 });
  CHECK (cs_shape_numel (&overflow) == -1, "an overflowing product is caught");
  cs_shape neg = cs_shape_make (2, (int64_t[]) { -1, 4 });
  CHECK (cs_shape_numel (&neg) == -1, "a negative dim is caught");

  char buf[64];
  CHECK (strcmp (cs_shape_format (&s, buf, sizeof buf), "[2, 3, 4, 5]") == 0, "format: %s", buf);
  return test_done ();
}
