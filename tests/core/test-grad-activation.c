/* Activations and dropout: finite-difference gradients on random shapes, forwards against a
 * double-precision reference, PyTorch's values at the kinks, the ReLU rules, dropout masks. */
#include "pointwise-util.h"

typedef struct {
  cs_op op;
  const char *name;
  float alpha, beta;      /* attrs.act */
  float lo, hi;           /* input range */
  float kinks[2];
  int n_kinks;
} act_case;

/* The reference forward in double, written from the definitions. */
static double
ref_forward (const act_case *c, double x)
{
  switch (c->op)
    {
    case CS_OP_RELU: return x > 0 ? x : 0;
    case CS_OP_LEAKY_RELU: return x > 0 ? x : c->alpha * x;
    case CS_OP_CLIP: return x < c->alpha ? c->alpha : x > c->beta ? c->beta : x;
    case CS_OP_SIGMOID: return 1.0 / (1.0 + exp (-x));
    case CS_OP_HARD_SIGMOID:
      {
        double v = c->alpha * x + c->beta;
        return v < 0 ? 0 : v > 1 ? 1 : v;
      }
    case CS_OP_HARD_SWISH:
      {
        double r6 = x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3;
        return x * r6 / 6;
      }
    case CS_OP_TANH: return tanh (x);
    case CS_OP_ERF: return erf (x);
    case CS_OP_SQRT: return sqrt (x);
    case CS_OP_EXP: return exp (x);
    case CS_OP_NEG: return -x;
    case CS_OP_IDENTITY: return x;
    default: return NAN;
    }
}

static const act_case cases[] = {
  { CS_OP_RELU, "relu", 0, 0, -2, 2, { 0 }, 1 },
  { CS_OP_LEAKY_RELU, "leaky_relu", 0.01f, 0, -2, 2, { 0 }, 1 },
  { CS_OP_LEAKY_RELU, "leaky_relu", 0.2f, 0, -2, 2, { 0 }, 1 },
  { CS_OP_CLIP, "clip", 0.0f, 6.0f, -2, 8, { 0, 6 }, 2 },          /* ReLU6 */
  { CS_OP_CLIP, "clip", -0.5f, 0.7f, -2, 2, { -0.5f, 0.7f }, 2 },
  { CS_OP_CLIP, "clip", -INFINITY, 0.3f, -2, 2, { 0.3f }, 1 },     /* max only */
  { CS_OP_CLIP, "clip", -0.3f, INFINITY, -2, 2, { -0.3f }, 1 },    /* min only */
  { CS_OP_SIGMOID, "sigmoid", 0, 0, -4, 4, { 0 }, 0 },
  { CS_OP_HARD_SIGMOID, "hard_sigmoid", 0.2f, 0.5f, -4, 4, { -2.5f, 2.5f }, 2 },
  { CS_OP_HARD_SIGMOID, "hard_sigmoid", 1.0f / 6, 0.5f, -4, 4, { -3, 3 }, 2 },
  { CS_OP_HARD_SWISH, "hard_swish", 0, 0, -5, 5, { -3, 3 }, 2 },
  { CS_OP_TANH, "tanh", 0, 0, -3, 3, { 0 }, 0 },
  { CS_OP_ERF, "erf", 0, 0, -2, 2, { 0 }, 0 },
  { CS_OP_SQRT, "sqrt", 0, 0, 0.3f, 3, { 0 }, 0 },
  { CS_OP_EXP, "exp", 0, 0, -2, 2, { 0 }, 0 },
  { CS_OP_NEG, "neg", 0, 0, -2, 2, { 0 }, 0 },
  { CS_OP_IDENTITY, "identity", 0, 0, -2, 2, { 0 }, 0 },
};
#define N_CASES (int) (sizeof cases / sizeof cases[0])

static cs_shape
random_shape (cs_rng *rng, int64_t batch)
{
  int32_t ndim = (int32_t) rand_int (rng, 1, 4);
  int64_t dims[4] = { batch, 1, 1, 1 };
  for (int32_t i = 1; i < ndim; i++)
    dims[i] = rand_int (rng, 1, 6);
  return cs_shape_make (ndim, dims);
}

static void
test_gradients_and_forward (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 7);
  for (int c = 0; c < N_CASES; c++)
    for (int rep = 0; rep < 4; rep++)
      {
        const act_case *k = &cases[c];
        cs_attrs attrs = { 0 };
        attrs.act.alpha = k->alpha;
        attrs.act.beta = k->beta;
        int64_t batch = rep % 2 ? 3 : 1;
        cs_shape s = random_shape (&rng, batch);
        cs_tensor x = tensor_new (&s);
        /* distinct values keep points apart; then none within 3h of a kink */
        cs_fill_distinct (&x, &rng, k->lo, k->hi);
        move_off_kinks (&x, k->kinks, k->n_kinks, 0.03f);
        char label[128], buf[64];
        snprintf (label, sizeof label, "%s(%g, %g) %s", k->name, (double) k->alpha,
                  (double) k->beta, cs_shape_format (&s, buf, sizeof buf));
        cs_gradcheck (label, k->op, &attrs, &x, 1, true, NULL);

        op_run r;
        cs_error err = { 0 };
        CHECK (op_run_setup (&r, k->op, &attrs, &x, 1, false, "act", &err) == CS_OK
               && op_run_forward (&r) == CS_OK, "%s: forward runs %s", label, err.message);
        double worst = 0;
        for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
          {
            double ref = ref_forward (k, x.data[i]);
            double d = fabs (r.out.data[i] - ref) / (1 + fabs (ref));
            worst = d > worst || isnan (d) ? (isnan (d) ? INFINITY : d) : worst;
          }
        CHECK (worst < 2e-6, "%s: forward matches the reference (worst rel %.3g)", label, worst);
        CHECK (cs_shape_equal (&r.out.shape, &s), "%s: output shape = input shape", label);
        op_run_free (&r);
        cs_tensor_free (&x);
      }
}

/* Gradients exactly at the kinks, as PyTorch 1.13 gives them (torch.autograd on the same
 * points): relu 0 at 0, leaky slope at 0, ReLU6/hardtanh 0 at both bounds, hardswish
 * -0.5 at -3 and 1.5 at 3, hardsigmoid 0 at -3 and 3. */
static void
test_kink_values (void)
{
  struct {
    cs_op op;
    float alpha, beta;
    float x, grad;
  } pts[] = {
    { CS_OP_RELU, 0, 0, 0.0f, 0.0f },
    { CS_OP_RELU, 0, 0, 1e-6f, 1.0f },
    { CS_OP_LEAKY_RELU, 0.1f, 0, 0.0f, 0.1f },
    { CS_OP_CLIP, 0, 6, 0.0f, 0.0f },
    { CS_OP_CLIP, 0, 6, 6.0f, 0.0f },
    { CS_OP_CLIP, 0, 6, 3.0f, 1.0f },
    { CS_OP_CLIP, 0, 6, 7.0f, 0.0f },
    { CS_OP_CLIP, 0, 6, -1.0f, 0.0f },
    { CS_OP_HARD_SWISH, 0, 0, -4.0f, 0.0f },
    { CS_OP_HARD_SWISH, 0, 0, -3.0f, -0.5f },
    { CS_OP_HARD_SWISH, 0, 0, 0.0f, 0.5f },
    { CS_OP_HARD_SWISH, 0, 0, 3.0f, 1.5f },
    { CS_OP_HARD_SWISH, 0, 0, 4.0f, 1.0f },
    { CS_OP_HARD_SIGMOID, 1.0f / 6, 0.5f, -3.0f, 0.0f },
    { CS_OP_HARD_SIGMOID, 1.0f / 6, 0.5f, 0.0f, 1.0f / 6 },
    { CS_OP_HARD_SIGMOID, 1.0f / 6, 0.5f, 3.0f, 0.0f },
  };
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
    {
      cs_attrs attrs = { 0 };
      attrs.act.alpha = pts[i].alpha;
      attrs.act.beta = pts[i].beta;
      cs_shape s = cs_shape_make (1, (int64_t[]) { 1 });
      cs_tensor x = tensor_new (&s), dy = tensor_new (&s), dx = tensor_new (&s);
      x.data[0] = pts[i].x;
      dy.data[0] = 1.0f;
      op_run r;
      cs_tensor *din[1] = { &dx };
      op_run_setup (&r, pts[i].op, &attrs, &x, 1, false, "kink", NULL);
      op_run_forward (&r);
      op_run_backward (&r, &dy, din);
      CHECK (fabsf (dx.data[0] - pts[i].grad) < 1e-6f, "%s at x = %g: gradient %g (PyTorch %g)",
             r.info->name, (double) pts[i].x, (double) dx.data[0], (double) pts[i].grad);
      op_run_free (&r);
      cs_tensor_free (&x);
      cs_tensor_free (&dy);
      cs_tensor_free (&dx);
    }
}

/* NaN passes through every activation that clamps, as in PyTorch: an overflow upstream
 * (inf - inf in a convolution) must reach the outputs' non-finite check, not turn into a
 * bound. Infinities clamp as numbers do. */
static void
test_nan_passes (void)
{
  struct {
    cs_op op;
    float alpha, beta;
    float at_minus_inf, at_plus_inf;
  } clamps[] = {
    { CS_OP_RELU, 0, 0, 0.0f, INFINITY },
    { CS_OP_LEAKY_RELU, 0.01f, 0, -INFINITY, INFINITY },
    { CS_OP_CLIP, 0, 6, 0.0f, 6.0f },
    { CS_OP_HARD_SIGMOID, 1.0f / 6, 0.5f, 0.0f, 1.0f },
    { CS_OP_HARD_SWISH, 0, 0, NAN, INFINITY }, /* -inf * 0 is NaN in PyTorch too */
  };
  const float in[] = { NAN, -INFINITY, 2.0f, INFINITY };
  for (size_t k = 0; k < sizeof clamps / sizeof clamps[0]; k++)
    {
      cs_attrs attrs = cs_attrs_default (clamps[k].op);
      if (clamps[k].op != CS_OP_RELU && clamps[k].op != CS_OP_HARD_SWISH)
        {
          attrs.act.alpha = clamps[k].alpha;
          attrs.act.beta = clamps[k].beta;
        }
      cs_shape s = cs_shape_make (1, (int64_t[]) { 4 });
      cs_tensor x = tensor_new (&s);
      memcpy (x.data, in, sizeof in);
      op_run r;
      op_run_setup (&r, clamps[k].op, &attrs, &x, 1, false, "nan", NULL);
      op_run_forward (&r);
      const float *y = r.out.data;
      bool low = isnan (clamps[k].at_minus_inf) ? isnan (y[1]) : y[1] == clamps[k].at_minus_inf;
      CHECK (isnan (y[0]) && low && y[3] == clamps[k].at_plus_inf && isfinite (y[2]),
             "%s: NaN stays NaN, -inf -> %g, +inf -> %g (got %g, %g, %g, %g)", r.info->name,
             (double) clamps[k].at_minus_inf, (double) clamps[k].at_plus_inf, (double) y[0],
             (double) y[1], (double) y[2], (double) y[3]);
      op_run_free (&r);
      cs_tensor_free (&x);
    }
}

/* Backward adds into din and skips a NULL din. */
static void
test_accumulates (void)
{
  cs_attrs attrs = { 0 };
  cs_shape s = cs_shape_make (2, (int64_t[]) { 2, 3 });
  cs_tensor x = tensor_new (&s), dy = tensor_new (&s), dx = tensor_new (&s);
  for (int i = 0; i < 6; i++)
    {
      x.data[i] = (float) i - 2.5f;
      dy.data[i] = 1.0f;
      dx.data[i] = 10.0f;
    }
  op_run r;
  op_run_setup (&r, CS_OP_TANH, &attrs, &x, 1, false, "acc", NULL);
  op_run_forward (&r);
  cs_tensor *din[1] = { &dx };
  op_run_backward (&r, &dy, din);
  bool ok = true;
  for (int i = 0; i < 6; i++)
    ok = ok && fabs (dx.data[i] - (10.0 + 1.0 - pow (tanh (x.data[i]), 2))) < 1e-5;
  CHECK (ok, "tanh backward adds into an existing gradient");
  cs_tensor *none[1] = { NULL };
  CHECK (op_run_backward (&r, &dy, none) == CS_OK, "backward with din[0] == NULL is a no-op");
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dy);
  cs_tensor_free (&dx);
}

/* Guided backprop and deconvnet are not gradients: check the rules element by element. */
static void
test_relu_rules (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 11);
  cs_shape s = cs_shape_4d (3, 2, 4, 5);
  cs_tensor x = tensor_new (&s), dy = tensor_new (&s);
  cs_fill_uniform (&x, &rng, -1, 1);
  cs_fill_uniform (&dy, &rng, -1, 1);
  x.data[0] = 0.0f; /* the kink itself: x > 0 is false */
  dy.data[1] = 0.0f;
  const cs_relu_rule rules[] = { CS_RELU_RULE_GRADIENT, CS_RELU_RULE_GUIDED, CS_RELU_RULE_DECONVNET };
  const char *names[] = { "gradient", "guided", "deconvnet" };
  cs_attrs attrs = { 0 };
  for (int k = 0; k < 3; k++)
    {
      op_run r;
      op_run_setup (&r, CS_OP_RELU, &attrs, &x, 1, false, "relu", NULL);
      r.ctx.relu_rule = rules[k];
      op_run_forward (&r);
      cs_tensor dx = tensor_new (&s);
      cs_tensor *din[1] = { &dx };
      op_run_backward (&r, &dy, din);
      int64_t bad = 0, n = cs_tensor_numel (&x);
      for (int64_t i = 0; i < n; i++)
        {
          float g = dy.data[i], v = x.data[i], want;
          if (rules[k] == CS_RELU_RULE_GRADIENT)
            want = v > 0 ? g : 0;
          else if (rules[k] == CS_RELU_RULE_GUIDED)
            want = v > 0 && g > 0 ? g : 0;
          else
            want = g > 0 ? g : 0;
          bad += dx.data[i] != want;
        }
      CHECK (bad == 0, "relu rule %s: %lld of %lld elements differ", names[k], (long long) bad,
             (long long) n);
      op_run_free (&r);
      cs_tensor_free (&dx);
    }
  cs_gradcheck_options o = { .relu_rule = CS_RELU_RULE_GRADIENT };
  cs_fill_distinct (&x, &rng, -1, 1);
  move_off_kinks (&x, (float[]) { 0 }, 1, 0.03f);
  cs_gradcheck ("relu [3, 2, 4, 5] (rule gradient)", CS_OP_RELU, &attrs, &x, 1, true, &o);
  cs_tensor_free (&x);
  cs_tensor_free (&dy);
}

static void
dropout_run (cs_tensor *x, float p, bool training, uint64_t seed, uint64_t step, const char *name,
             cs_tensor *y_out)
{
  cs_attrs attrs = { 0 };
  attrs.dropout.p = p;
  op_run r;
  op_run_setup (&r, CS_OP_DROPOUT, &attrs, x, 1, training, name, NULL);
  r.ctx.seed = seed;
  r.ctx.step = step;
  op_run_forward (&r);
  cs_tensor_copy (y_out, &r.out, NULL);
  op_run_free (&r);
}

static void
test_dropout (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  /* larger than a mask block, so that several generators take part */
  cs_shape s = cs_shape_make (2, (int64_t[]) { 4, 5000 });
  cs_tensor x = tensor_new (&s);
  cs_fill_uniform (&x, &rng, 0.5f, 1.5f);
  int64_t n = cs_tensor_numel (&x);
  cs_tensor y, y2, y3, y4;

  dropout_run (&x, 0.5f, false, 1, 0, "drop", &y);
  CHECK (memcmp (y.data, x.data, (size_t) n * sizeof (float)) == 0, "dropout at inference is the identity");
  cs_tensor_free (&y);

  const float ps[] = { 0.1f, 0.5f, 0.8f };
  for (int k = 0; k < 3; k++)
    {
      float p = ps[k];
      dropout_run (&x, p, true, 99, 5, "drop", &y);
      int64_t dropped = 0, wrong = 0;
      for (int64_t i = 0; i < n; i++)
        {
          if (y.data[i] == 0.0f)
            dropped++;
          else if (fabsf (y.data[i] - x.data[i] / (1 - p)) > 1e-5f * fabsf (y.data[i]))
            wrong++;
        }
      double frac = (double) dropped / (double) n;
      /* 20000 Bernoulli draws: the standard deviation of the fraction is below 0.004 */
      CHECK (fabs (frac - p) < 0.02, "dropout p = %g drops %.4f of the elements", (double) p, frac);
      CHECK (wrong == 0, "dropout p = %g scales kept elements by 1/(1-p) (%lld wrong)", (double) p,
             (long long) wrong);
      cs_tensor_free (&y);
    }

  dropout_run (&x, 0.5f, true, 99, 5, "drop", &y);
  dropout_run (&x, 0.5f, true, 99, 5, "drop", &y2);
  dropout_run (&x, 0.5f, true, 99, 6, "drop", &y3);
  dropout_run (&x, 0.5f, true, 99, 5, "drop2", &y4);
  CHECK (memcmp (y.data, y2.data, (size_t) n * sizeof (float)) == 0,
         "the same seed, step and node give the same mask bit for bit");
  CHECK (memcmp (y.data, y3.data, (size_t) n * sizeof (float)) != 0, "another step gives another mask");
  CHECK (memcmp (y.data, y4.data, (size_t) n * sizeof (float)) != 0, "another node gives another mask");
  cs_tensor_free (&y2);
  dropout_run (&x, 0.5f, true, 100, 5, "drop", &y2);
  CHECK (memcmp (y.data, y2.data, (size_t) n * sizeof (float)) != 0, "another seed gives another mask");
  cs_tensor_free (&y);
  cs_tensor_free (&y2);
  cs_tensor_free (&y3);
  cs_tensor_free (&y4);

  dropout_run (&x, 1.0f, true, 1, 1, "drop", &y);
  bool zero = true;
  for (int64_t i = 0; i < n; i++)
    zero = zero && y.data[i] == 0.0f;
  CHECK (zero, "dropout p = 1 in training outputs zeros (no infinite scale)");
  cs_tensor_free (&y);
  dropout_run (&x, 0.0f, true, 1, 1, "drop", &y);
  CHECK (memcmp (y.data, x.data, (size_t) n * sizeof (float)) == 0, "dropout p = 0 is the identity");
  cs_tensor_free (&y);
  cs_tensor_free (&x);

  /* gradients: identity at inference; through the same mask in training (the step is fixed) */
  cs_attrs attrs = { 0 };
  attrs.dropout.p = 0.3f;
  for (int k = 0; k < 2; k++)
    {
      cs_shape gs = cs_shape_4d (k ? 3 : 1, 2, 3, 4);
      cs_tensor gx = tensor_new (&gs);
      cs_fill_uniform (&gx, &rng, -1, 1);
      cs_gradcheck_options o = { .training = false };
      cs_gradcheck ("dropout p=0.3 inference", CS_OP_DROPOUT, &attrs, &gx, 1, true, &o);
      o.training = true;
      cs_gradcheck ("dropout p=0.3 training", CS_OP_DROPOUT, &attrs, &gx, 1, true, &o);
      cs_tensor_free (&gx);
    }
}

static void
test_infer_errors (void)
{
  cs_shape s = cs_shape_make (2, (int64_t[]) { 1, 4 });
  const cs_shape *in[1] = { &s };
  cs_shape out;
  cs_node node = { .name = "bad", .n_inputs = 1, .param_index = -1 };
  cs_error err = { 0 };
  node.op = CS_OP_DROPOUT;
  node.attrs.dropout.p = 1.5f;
  CHECK (cs_op_dropout_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT,
         "dropout p = 1.5 is rejected: %s", err.message);
  node.attrs.dropout.p = NAN;
  CHECK (cs_op_dropout_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT, "dropout p = NaN is rejected");
  node.op = CS_OP_LEAKY_RELU;
  node.attrs.act.alpha = NAN;
  CHECK (cs_op_leaky_relu_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT,
         "leaky_relu slope NaN is rejected: %s", err.message);
  node.op = CS_OP_CLIP;
  node.attrs.act.alpha = -INFINITY;
  node.attrs.act.beta = INFINITY;
  CHECK (cs_op_clip_info.infer (&node, in, &out, &err) == CS_OK && cs_shape_equal (&out, &s),
         "clip without bounds is accepted");
  const char *names[] = { "relu", "leaky_relu", "clip", "sigmoid", "hard_sigmoid", "hard_swish",
                          "tanh", "erf", "sqrt", "exp", "neg", "identity", "dropout" };
  int found = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    found += cs_op_from_name (names[i]) != CS_OP_COUNT;
  CHECK (found == 13, "all 13 activation names resolve (%d)", found);
  node.op = CS_OP_RELU;
  CHECK (cs_op_relu_info.flops (&node, in, &s) == 4, "relu costs one FLOP per element");
}

/* Big enough for the OpenMP paths: 1 and 2 threads must agree bit for bit (dropout masks
 * included, since they are drawn per block, not per thread). */
static void
test_threads (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 8);
  cs_shape s = cs_shape_4d (2, 16, 48, 48);
  cs_tensor x = tensor_new (&s);
  cs_fill_uniform (&x, &rng, -3, 3);
  const cs_op ops[] = { CS_OP_RELU, CS_OP_SIGMOID, CS_OP_HARD_SWISH, CS_OP_DROPOUT };
  for (int i = 0; i < 4; i++)
    {
      cs_attrs a = cs_attrs_default (ops[i]);
      CHECK (same_with_threads (ops[i], &a, &x, 1, true), "%s on [2, 16, 48, 48]: 1 and 2 threads agree bit for bit",
             cs_op_get (ops[i])->name);
    }
  cs_tensor_free (&x);
}

int
main (void)
{
  test_threads ();
  test_gradients_and_forward ();
  test_kink_values ();
  test_nan_passes ();
  test_accumulates ();
  test_relu_rules ();
  test_dropout ();
  test_infer_errors ();
  return test_done ();
}
