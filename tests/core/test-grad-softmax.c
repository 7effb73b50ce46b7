/* Softmax: forward against a double reference on every axis, stability with large logits,
 * finite-difference gradients, axis checks. */
#include "pointwise-util.h"

static void
test_random (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 23);
  for (int rep = 0; rep < 16; rep++)
    {
      int32_t ndim = (int32_t) rand_int (&rng, 2, 4);
      int64_t dims[4] = { rep % 2 ? 3 : 1, 1, 1, 1 };
      for (int32_t i = 1; i < ndim; i++)
        dims[i] = rand_int (&rng, 1, 6);
      cs_shape s = cs_shape_make (ndim, dims);
      cs_attrs a = { 0 };
      int32_t ax = (int32_t) rand_int (&rng, 1, ndim - 1);
      a.axis.axis = rep % 3 == 0 ? ax - ndim : ax; /* negative axes too */
      cs_tensor x = tensor_new (&s);
      cs_fill_uniform (&x, &rng, -3, 3);
      char label[128], buf[64];
      snprintf (label, sizeof label, "softmax %s axis %d", cs_shape_format (&s, buf, sizeof buf), a.axis.axis);

      op_run r;
      cs_error err = { 0 };
      cs_status st = op_run_setup (&r, CS_OP_SOFTMAX, &a, &x, 1, false, "sm", &err);
      if (st == CS_OK)
        st = op_run_forward (&r);
      int64_t outer = 1, inner = 1, len = dims[ax];
      for (int32_t i = 0; i < ax; i++)
        outer *= dims[i];
      for (int32_t i = ax + 1; i < ndim; i++)
        inner *= dims[i];
      double worst = st == CS_OK ? 0 : INFINITY;
      for (int64_t o = 0; o < outer && st == CS_OK; o++)
        for (int64_t i = 0; i < inner; i++)
          {
            double z = 0;
            for (int64_t k = 0; k < len; k++)
              z += exp (x.data[(o * len + k) * inner + i]);
            for (int64_t k = 0; k < len; k++)
              {
                int64_t at = (o * len + k) * inner + i;
                worst = fmax (worst, fabs (exp (x.data[at]) / z - r.out.data[at]));
              }
          }
      CHECK (worst < 1e-6, "%s: forward matches exp(x)/sum (diff %.3g) %s", label, worst, err.message);
      op_run_free (&r);
      cs_gradcheck (label, CS_OP_SOFTMAX, &a, &x, 1, true, NULL);
      cs_tensor_free (&x);
    }
}

/* Logits of 1000 overflow expf; the maximum is subtracted first. */
static void
test_stability (void)
{
  cs_shape s = cs_shape_make (2, (int64_t[]) { 1, 3 });
  cs_tensor x = tensor_new (&s);
  x.data[0] = 1000;
  x.data[1] = 1001;
  x.data[2] = -1000;
  cs_attrs a = { 0 };
  a.axis.axis = 1;
  op_run r;
  op_run_setup (&r, CS_OP_SOFTMAX, &a, &x, 1, false, "sm", NULL);
  op_run_forward (&r);
  double e = exp (-1.0);
  CHECK (fabs (r.out.data[0] - e / (1 + e)) < 1e-6 && fabs (r.out.data[1] - 1 / (1 + e)) < 1e-6
         && r.out.data[2] == 0.0f, "large logits: %g %g %g", r.out.data[0], r.out.data[1], r.out.data[2]);
  /* the gradient of a softmax sums to 0 along the axis */
  cs_tensor dy = tensor_new (&s), dx = tensor_new (&s);
  dy.data[0] = 0.3f;
  dy.data[1] = -1.0f;
  dy.data[2] = 2.0f;
  cs_tensor *din[1] = { &dx };
  op_run_backward (&r, &dy, din);
  CHECK (fabs (dx.data[0] + dx.data[1] + dx.data[2]) < 1e-6 && isfinite (dx.data[0]),
         "large logits: finite gradient summing to 0 (%g %g %g)", dx.data[0], dx.data[1], dx.data[2]);
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dy);
  cs_tensor_free (&dx);
}

static void
test_infer_errors (void)
{
  cs_error err = { 0 };
  cs_shape out, s = cs_shape_make (2, (int64_t[]) { 1, 10 });
  const cs_shape *in[1] = { &s };
  cs_node node = { .name = "sm", .n_inputs = 1, .param_index = -1, .op = CS_OP_SOFTMAX };
  node.attrs.axis.axis = 0;
  CHECK (cs_op_softmax_info.infer (&node, in, &out, &err) == CS_ERR_UNSUPPORTED,
         "softmax over the batch axis is rejected: %s", err.message);
  node.attrs.axis.axis = 2;
  CHECK (cs_op_softmax_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT,
         "axis 2 of a 2-D input is rejected: %s", err.message);
  node.attrs.axis.axis = -1;
  CHECK (cs_op_softmax_info.infer (&node, in, &out, &err) == CS_OK && cs_shape_equal (&out, &s),
         "axis -1 is the last axis");
  CHECK (cs_op_from_name ("softmax") == CS_OP_SOFTMAX, "softmax resolves");
}

/* Big enough for the OpenMP paths: 1 and 2 threads must agree bit for bit. */
static void
test_threads (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 8);
  cs_shape s = cs_shape_4d (2, 10, 64, 64);
  cs_tensor x = tensor_new (&s);
  cs_fill_uniform (&x, &rng, -3, 3);
  cs_attrs a = { 0 };
  a.axis.axis = 1;
  CHECK (same_with_threads (CS_OP_SOFTMAX, &a, &x, 1, false), "softmax axis 1: 1 and 2 threads agree");
  a.axis.axis = 3;
  CHECK (same_with_threads (CS_OP_SOFTMAX, &a, &x, 1, false), "softmax axis 3: 1 and 2 threads agree");
  cs_tensor_free (&x);
}

int
main (void)
{
  test_threads ();
  test_random ();
  test_stability ();
  test_infer_errors ();
  return test_done ();
}
