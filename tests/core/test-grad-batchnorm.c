/* Batch norm: inference and training forwards against a double-precision reference, the saved
 * batch statistics, finite-difference gradients to x, scale and bias in both modes. */
#include "pointwise-util.h"

typedef struct {
  cs_tensor t[5]; /* x, scale, bias, running_mean, running_var */
} bn_inputs;

static void
bn_make (bn_inputs *b, cs_rng *rng, const cs_shape *xs)
{
  int64_t c = xs->dim[1];
  cs_shape cs = cs_shape_make (1, &c);
  b->t[0] = tensor_new (xs);
  for (int i = 1; i < 5; i++)
    b->t[i] = tensor_new (&cs);
  /* an offset and a spread per channel, so that mean and variance matter */
  cs_fill_uniform (&b->t[0], rng, -1, 1);
  int64_t s = cs_tensor_numel (&b->t[0]) / (xs->dim[0] * c);
  for (int64_t n = 0; n < xs->dim[0]; n++)
    for (int64_t k = 0; k < c; k++)
      for (int64_t j = 0; j < s; j++)
        b->t[0].data[(n * c + k) * s + j] = b->t[0].data[(n * c + k) * s + j] * (1.0f + 0.5f * (float) k) + 0.3f * (float) k;
  cs_fill_uniform (&b->t[1], rng, 0.5f, 1.5f);
  cs_fill_uniform (&b->t[2], rng, -0.5f, 0.5f);
  cs_fill_uniform (&b->t[3], rng, -0.5f, 0.5f);
  cs_fill_uniform (&b->t[4], rng, 0.5f, 2.0f);
}

static void
bn_free (bn_inputs *b)
{
  for (int i = 0; i < 5; i++)
    cs_tensor_free (&b->t[i]);
}

/* Reference forward; writes the batch mean and biased variance when training. */
static void
ref_bn (const bn_inputs *b, double eps, bool training, double *y, double *mean, double *var)
{
  const cs_shape *xs = &b->t[0].shape;
  int64_t n = xs->dim[0], c = xs->dim[1], s = cs_tensor_numel (&b->t[0]) / (n * c);
  for (int64_t k = 0; k < c; k++)
    {
      double m = 0, v = 0;
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < s; j++)
          m += b->t[0].data[(i * c + k) * s + j];
      m /= (double) (n * s);
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < s; j++)
          v += pow (b->t[0].data[(i * c + k) * s + j] - m, 2);
      v /= (double) (n * s);
      mean[k] = m;
      var[k] = v;
      double um = training ? m : b->t[3].data[k], uv = training ? v : b->t[4].data[k];
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < s; j++)
          {
            int64_t at = (i * c + k) * s + j;
            y[at] = (b->t[0].data[at] - um) / sqrt (uv + eps) * b->t[1].data[k] + b->t[2].data[k];
          }
    }
}

static void
test_forward_and_gradients (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 17);
  const float eps_values[] = { 1e-5f, 1e-3f };
  for (int rep = 0; rep < 12; rep++)
    {
      bool training = rep % 2 == 1;
      int64_t n = rep % 4 < 2 ? 1 : 3;
      int64_t c = rand_int (&rng, 1, 4);
      /* 2-D [N, C] inputs at batch 3 when training: one value per channel has no spread */
      bool flat = rep >= 8;
      if (flat && training)
        n = 3;
      cs_shape xs = flat ? cs_shape_make (2, (int64_t[]) { n, c })
                         : cs_shape_4d (n, c, rand_int (&rng, 1, 4), rand_int (&rng, 2, 5));
      bn_inputs b;
      bn_make (&b, &rng, &xs);
      cs_attrs a = { 0 };
      a.norm.eps = eps_values[rep % 3 == 0];
      a.norm.momentum = 0.1f;
      char label[128], buf[64];
      snprintf (label, sizeof label, "batchnorm2d %s %s eps %g", cs_shape_format (&xs, buf, sizeof buf),
                training ? "training" : "inference", (double) a.norm.eps);

      op_run r;
      cs_error err = { 0 };
      cs_status st = op_run_setup (&r, CS_OP_BATCHNORM, &a, b.t, 5, training, "bn", &err);
      if (st == CS_OK)
        st = op_run_forward (&r);
      int64_t numel = cs_tensor_numel (&b.t[0]);
      double *y = calloc ((size_t) numel, sizeof (double));
      double *mean = calloc ((size_t) c, sizeof (double)), *var = calloc ((size_t) c, sizeof (double));
      ref_bn (&b, a.norm.eps, training, y, mean, var);
      double worst = st == CS_OK && cs_shape_equal (&r.out.shape, &xs) ? 0 : INFINITY;
      for (int64_t i = 0; i < numel && worst < INFINITY; i++)
        worst = fmax (worst, fabs (r.out.data[i] - y[i]));
      CHECK (worst < 2e-5, "%s: forward matches the reference (diff %.3g) %s", label, worst, err.message);
      if (training)
        {
          double wm = 0;
          for (int64_t k = 0; k < c; k++)
            wm = fmax (wm, fmax (fabs (r.aux.data[k] - mean[k]), fabs (r.aux.data[c + k] - var[k])));
          CHECK (cs_tensor_numel (&r.aux) >= 2 * c && wm < 1e-6,
                 "%s: aux holds the batch mean and biased variance (diff %.3g)", label, wm);
        }
      free (y);
      free (mean);
      free (var);

      /* running statistics get no gradient, even when asked */
      cs_tensor dy = tensor_new (&xs), g[5];
      cs_fill_uniform (&dy, &rng, -1, 1);
      cs_tensor *din[5];
      for (int i = 0; i < 5; i++)
        {
          g[i] = tensor_new (&b.t[i].shape);
          din[i] = &g[i];
        }
      op_run_backward (&r, &dy, din);
      bool zero = true;
      for (int64_t k = 0; k < c; k++)
        zero = zero && g[3].data[k] == 0.0f && g[4].data[k] == 0.0f;
      CHECK (zero, "%s: running statistics get no gradient", label);
      /* each of x, scale, bias alone gives the same gradient as all together */
      bool same = true;
      for (int i = 0; i < 3; i++)
        {
          cs_tensor one = tensor_new (&b.t[i].shape);
          cs_tensor *only[5] = { NULL, NULL, NULL, NULL, NULL };
          only[i] = &one;
          op_run_backward (&r, &dy, only);
          same = same && max_abs_diff (one.data, g[i].data, cs_tensor_numel (&one)) < 1e-6;
          cs_tensor_free (&one);
        }
      CHECK (same, "%s: gradients with some din NULL match the full backward", label);
      for (int i = 0; i < 5; i++)
        cs_tensor_free (&g[i]);
      cs_tensor_free (&dy);
      op_run_free (&r);

      cs_gradcheck_options o = { .training = training, .check_mask = 0x7 };
      cs_gradcheck (label, CS_OP_BATCHNORM, &a, b.t, 5, true, &o);
      bn_free (&b);
    }
}

/* A hand-computed case: channel values {1, 3} at inference with mean 1, var 4 - eps, scale 2,
 * bias 0.5 give (x - 1) / 2 * 2 + 0.5 = {0.5, 2.5}; in training the batch mean is 2 and the
 * variance 1, so {-1, 1} * 2 / sqrt(1 + eps) + 0.5. */
static void
test_hand_case (void)
{
  cs_shape xs = cs_shape_make (2, (int64_t[]) { 2, 1 }), cs = cs_shape_make (1, (int64_t[]) { 1 });
  cs_tensor t[5] = { tensor_new (&xs), tensor_new (&cs), tensor_new (&cs), tensor_new (&cs), tensor_new (&cs) };
  t[0].data[0] = 1;
  t[0].data[1] = 3;
  t[1].data[0] = 2;
  t[2].data[0] = 0.5f;
  t[3].data[0] = 1;
  cs_attrs a = { 0 };
  a.norm.eps = 1e-5f;
  t[4].data[0] = 4 - a.norm.eps;
  op_run r;
  op_run_setup (&r, CS_OP_BATCHNORM, &a, t, 5, false, "bn", NULL);
  op_run_forward (&r);
  CHECK (fabsf (r.out.data[0] - 0.5f) < 1e-6f && fabsf (r.out.data[1] - 2.5f) < 1e-6f,
         "inference by hand: %g %g (want 0.5 2.5)", r.out.data[0], r.out.data[1]);
  op_run_free (&r);
  op_run_setup (&r, CS_OP_BATCHNORM, &a, t, 5, true, "bn", NULL);
  op_run_forward (&r);
  float k = 2.0f / sqrtf (1.0f + a.norm.eps);
  CHECK (fabsf (r.out.data[0] - (0.5f - k)) < 1e-6f && fabsf (r.out.data[1] - (0.5f + k)) < 1e-6f
         && r.aux.data[0] == 2.0f && r.aux.data[1] == 1.0f,
         "training by hand: %g %g, mean %g var %g", r.out.data[0], r.out.data[1], r.aux.data[0], r.aux.data[1]);
  op_run_free (&r);
  for (int i = 0; i < 5; i++)
    cs_tensor_free (&t[i]);
}

static void
test_infer_errors (void)
{
  cs_error err = { 0 };
  cs_shape out;
  cs_shape x4 = cs_shape_4d (1, 3, 2, 2), x1 = cs_shape_make (1, (int64_t[]) { 3 });
  cs_shape c3 = cs_shape_make (1, (int64_t[]) { 3 }), c4 = cs_shape_make (1, (int64_t[]) { 4 });
  cs_node node = { .name = "bn", .n_inputs = 5, .param_index = -1, .op = CS_OP_BATCHNORM };
  node.attrs.norm.eps = 1e-5f;
  node.attrs.norm.momentum = 0.1f;
  const cs_shape *good[5] = { &x4, &c3, &c3, &c3, &c3 };
  CHECK (cs_op_batchnorm_info.infer (&node, good, &out, &err) == CS_OK && cs_shape_equal (&out, &x4),
         "batchnorm2d keeps the input shape");
  const cs_shape *bad_c[5] = { &x4, &c3, &c3, &c4, &c3 };
  CHECK (cs_op_batchnorm_info.infer (&node, bad_c, &out, &err) == CS_ERR_SHAPE,
         "a running mean of the wrong size is rejected: %s", err.message);
  const cs_shape *bad_x[5] = { &x1, &c3, &c3, &c3, &c3 };
  CHECK (cs_op_batchnorm_info.infer (&node, bad_x, &out, &err) == CS_ERR_SHAPE,
         "a 1-D input is rejected: %s", err.message);
  node.attrs.norm.eps = -1.0f;
  CHECK (cs_op_batchnorm_info.infer (&node, good, &out, &err) == CS_ERR_ARGUMENT,
         "a negative eps is rejected: %s", err.message);
  node.attrs.norm.eps = 1e-5f;
  CHECK (cs_op_batchnorm_info.aux_size (&node, good, &x4, 8) == 6, "aux holds 2C floats");
  CHECK (cs_op_from_name ("batchnorm2d") == CS_OP_BATCHNORM, "batchnorm2d resolves");
}

/* Big enough for the OpenMP paths: 1 and 2 threads must agree bit for bit. */
static void
test_threads (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 8);
  cs_shape s = cs_shape_4d (2, 16, 48, 48);
  bn_inputs b;
  bn_make (&b, &rng, &s);
  cs_attrs a = cs_attrs_default (CS_OP_BATCHNORM);
  CHECK (same_with_threads (CS_OP_BATCHNORM, &a, b.t, 5, false), "batchnorm inference: 1 and 2 threads agree");
  CHECK (same_with_threads (CS_OP_BATCHNORM, &a, b.t, 5, true), "batchnorm training: 1 and 2 threads agree");
  bn_free (&b);
}

int
main (void)
{
  test_threads ();
  test_hand_case ();
  test_forward_and_gradients ();
  test_infer_errors ();
  return test_done ();
}
