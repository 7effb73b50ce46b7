/* gemm and matmul: forward against naive loops, finite-difference gradient checks (trans_b,
 * bias shapes, alpha/beta, 2-D and 4-D matmul inputs), and infer() errors. */
#include <string.h>

#include "gradcheck.h"
#include "testlib.h"

static cs_tensor
rand_tensor (cs_rng *rng, int32_t ndim, const int64_t *dims)
{
  cs_tensor t;
  cs_shape s = cs_shape_make (ndim, dims);
  cs_tensor_alloc (&t, &s, NULL);
  cs_fill_uniform (&t, rng, -1.0f, 1.0f);
  return t;
}

/* Runs forward once and compares with y = alpha * a op(b) + beta * c computed in double. */
static void
gemm_forward_check (const char *label, cs_op op, const cs_attrs *attrs, cs_tensor *in, int32_t n_in,
                    int64_t rows, int64_t k, int64_t m, int32_t c_kind)
{
  const cs_op_info *info = cs_op_get (op);
  cs_node node = { 0 };
  node.op = op;
  node.attrs = *attrs;
  node.n_inputs = n_in;
  const cs_shape *shapes[3] = { &in[0].shape, &in[1].shape, n_in > 2 ? &in[2].shape : NULL };
  cs_shape out_shape;
  cs_error err = { 0 };
  if (info->infer (&node, shapes, &out_shape, &err) != CS_OK)
    {
      CHECK (0, "%s: infer: %s", label, err.message);
      return;
    }
  cs_tensor out;
  cs_tensor_alloc (&out, &out_shape, NULL);
  const cs_tensor *ins[3] = { &in[0], &in[1], &in[2] };
  cs_op_call call = { .node = &node, .n_inputs = n_in, .in = ins, .out = &out };
  info->forward (&call);
  bool trans_b = op == CS_OP_GEMM && attrs->gemm.trans_b;
  float alpha = op == CS_OP_GEMM ? attrs->gemm.alpha : 1.0f;
  float beta = op == CS_OP_GEMM ? attrs->gemm.beta : 0.0f;
  double worst = 0;
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < m; j++)
      {
        double acc = 0;
        for (int64_t p = 0; p < k; p++)
          acc += (double) in[0].data[i * k + p] * in[1].data[trans_b ? j * k + p : p * m + j];
        acc *= alpha;
        if (n_in > 2)
          acc += beta * (double) in[2].data[c_kind == 0 ? 0 : j];
        worst = fmax (worst, fabs (acc - out.data[i * m + j]));
      }
  CHECK (worst < 1e-5 * (double) k, "%s: forward matches naive loops (max abs err %.2g)", label, worst);
  cs_tensor_free (&out);
}

static void
expect_infer_error (const char *what, cs_op op, const cs_attrs *a, const cs_shape *s0,
                    const cs_shape *s1, const cs_shape *s2, const char *needle)
{
  cs_node node = { 0 };
  node.op = op;
  node.attrs = *a;
  node.n_inputs = s2 != NULL ? 3 : 2;
  const cs_shape *shapes[3] = { s0, s1, s2 };
  cs_shape out;
  cs_error err = { 0 };
  cs_status st = cs_op_get (op)->infer (&node, shapes, &out, &err);
  CHECK (st != CS_OK && strstr (err.message, needle) != NULL, "infer rejects %s: \"%s\"", what, err.message);
}

int
main (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 77);
  /* Strong references: the registry refers to op tables weakly, which pulls nothing in. */
  CHECK (cs_op_get (CS_OP_GEMM) == &cs_op_gemm_info, "gemm is registered");
  CHECK (cs_op_get (CS_OP_MATMUL) == &cs_op_matmul_info, "matmul is registered");
  cs_gradcheck_options o = { .atol = 1e-3, .rtol = 5e-3 };

  /* gemm: every combination of trans_b, bias shape (none, scalar, [M], [1, M]), alpha/beta, batch */
  static const float scales[][2] = { { 1.0f, 1.0f }, { 0.5f, -2.0f }, { 1.5f, 0.0f } };
  int count = 0;
  for (int trans_b = 0; trans_b < 2; trans_b++)
    for (int c_kind = -1; c_kind < 3; c_kind++)
      for (int sc = 0; sc < 3; sc++)
        for (int batch = 1; batch <= 3; batch += 2)
          {
            int64_t n = batch, k = 1 + (int64_t) cs_rng_below (&rng, 12);
            int64_t m = 1 + (int64_t) cs_rng_below (&rng, 9);
            cs_tensor in[3];
            memset (in, 0, sizeof in);
            in[0] = rand_tensor (&rng, 2, (int64_t[]) { n, k });
            in[1] = trans_b ? rand_tensor (&rng, 2, (int64_t[]) { m, k }) : rand_tensor (&rng, 2, (int64_t[]) { k, m });
            int32_t n_in = 2;
            if (c_kind == 0)
              in[2] = rand_tensor (&rng, 0, NULL);
            else if (c_kind == 1)
              in[2] = rand_tensor (&rng, 1, (int64_t[]) { m });
            else if (c_kind == 2)
              in[2] = rand_tensor (&rng, 2, (int64_t[]) { 1, m });
            if (c_kind >= 0)
              n_in = 3;
            cs_attrs a;
            memset (&a, 0, sizeof a);
            a.gemm.trans_b = trans_b;
            a.gemm.alpha = scales[sc][0];
            a.gemm.beta = scales[sc][1];
            char label[160];
            snprintf (label, sizeof label, "gemm a[%lld,%lld] trans_b=%d c=%s alpha=%g beta=%g",
                      (long long) n, (long long) k, trans_b,
                      c_kind < 0 ? "none" : c_kind == 0 ? "scalar" : c_kind == 1 ? "[M]" : "[1,M]",
                      (double) a.gemm.alpha, (double) a.gemm.beta);
            gemm_forward_check (label, CS_OP_GEMM, &a, in, n_in, n, k, m, c_kind);
            cs_gradcheck (label, CS_OP_GEMM, &a, in, n_in, true, &o);
            for (int i = 0; i < 3; i++)
              cs_tensor_free (&in[i]);
            count++;
          }
  TEST_NOTE ("%d gemm cases", count);

  /* A linear layer of realistic width: [3, 512] x [1000, 512]^T + [1000]. */
  {
    cs_tensor in[3];
    in[0] = rand_tensor (&rng, 2, (int64_t[]) { 3, 512 });
    in[1] = rand_tensor (&rng, 2, (int64_t[]) { 1000, 512 });
    in[2] = rand_tensor (&rng, 1, (int64_t[]) { 1000 });
    cs_attrs a = { .gemm = { .trans_b = true, .alpha = 1.0f, .beta = 1.0f } };
    gemm_forward_check ("linear 512->1000", CS_OP_GEMM, &a, in, 3, 3, 512, 1000, 1);
    cs_gradcheck_options ol = { .atol = 2e-3, .rtol = 5e-3, .max_checks = 60 };
    cs_gradcheck ("linear 512->1000", CS_OP_GEMM, &a, in, 3, true, &ol);
    for (int i = 0; i < 3; i++)
      cs_tensor_free (&in[i]);
  }

  /* matmul: 2-D, 3-D and 4-D a (e.g. [N, H, W, C] x [C, M]) */
  static const int64_t mshapes[][4] = { { 1, 7, 0, 0 }, { 3, 5, 0, 0 }, { 2, 3, 6, 0 }, { 3, 2, 4, 5 },
                                        { 1, 3, 3, 8 } };
  static const int32_t mndims[] = { 2, 2, 3, 4, 4 };
  for (int i = 0; i < 5; i++)
    {
      int32_t nd = mndims[i];
      int64_t k = mshapes[i][nd - 1], m = 1 + (int64_t) cs_rng_below (&rng, 6);
      int64_t rows = 1;
      for (int d = 0; d < nd - 1; d++)
        rows *= mshapes[i][d];
      cs_tensor in[3];
      memset (in, 0, sizeof in);
      in[0] = rand_tensor (&rng, nd, mshapes[i]);
      in[1] = rand_tensor (&rng, 2, (int64_t[]) { k, m });
      cs_attrs a;
      memset (&a, 0, sizeof a);
      char label[128], buf[64];
      snprintf (label, sizeof label, "matmul a%s b[%lld,%lld]", cs_shape_format (&in[0].shape, buf, sizeof buf),
                (long long) k, (long long) m);
      gemm_forward_check (label, CS_OP_MATMUL, &a, in, 2, rows, k, m, -1);
      cs_gradcheck (label, CS_OP_MATMUL, &a, in, 2, true, &o);
      for (int j = 0; j < 3; j++)
        cs_tensor_free (&in[j]);
    }

  /* infer() errors and output shapes */
  cs_attrs g = { .gemm = { .trans_b = true, .alpha = 1.0f, .beta = 1.0f } };
  cs_shape a2 = cs_shape_make (2, (int64_t[]) { 1, 512 });
  cs_shape w_bad = cs_shape_make (2, (int64_t[]) { 10, 256 });
  cs_shape w_ok = cs_shape_make (2, (int64_t[]) { 10, 512 });
  cs_shape c_bad = cs_shape_make (1, (int64_t[]) { 9 });
  cs_shape a4 = cs_shape_4d (1, 512, 1, 1);
  expect_infer_error ("gemm feature mismatch", CS_OP_GEMM, &g, &a2, &w_bad, NULL, "has 256 input features");
  expect_infer_error ("gemm bad bias", CS_OP_GEMM, &g, &a2, &w_ok, &c_bad, "does not broadcast");
  expect_infer_error ("gemm 4-D input", CS_OP_GEMM, &g, &a4, &w_ok, NULL, "2-D");
  cs_attrs none;
  memset (&none, 0, sizeof none);
  cs_shape b_ok = cs_shape_make (2, (int64_t[]) { 512, 10 });
  cs_shape b3 = cs_shape_make (3, (int64_t[]) { 2, 512, 10 });
  expect_infer_error ("matmul mismatch", CS_OP_MATMUL, &none, &a4, &b_ok, NULL, "has 1 features");
  expect_infer_error ("matmul 3-D weight", CS_OP_MATMUL, &none, &a2, &b3, NULL, "2-D");
  {
    cs_node node = { 0 };
    node.op = CS_OP_GEMM;
    node.attrs = g;
    node.n_inputs = 2;
    const cs_shape *sh[2] = { &a2, &w_ok };
    cs_shape out;
    cs_error err = { 0 };
    cs_status st = cs_op_get (CS_OP_GEMM)->infer (&node, sh, &out, &err);
    CHECK (st == CS_OK && out.ndim == 2 && out.dim[0] == 1 && out.dim[1] == 10, "gemm output [1, 10]");
    CHECK (cs_op_get (CS_OP_GEMM)->flops (&node, sh, &out) == 2 * 512 * 10, "gemm flops = 2 * MACs");
  }
  return test_done ();
}
