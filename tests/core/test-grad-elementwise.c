/* Binary elementwise ops: broadcasting in every direction, checked against naive index
 * computations (forward and backward) and by finite differences (gradcheck). */
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "testlib.h"

static const cs_op ops[] = { CS_OP_ADD, CS_OP_SUB, CS_OP_MUL, CS_OP_DIV, CS_OP_POW };

static cs_tensor
tensor_new (int32_t ndim, const int64_t *dims)
{
  cs_tensor t;
  cs_shape s = cs_shape_make (ndim, dims);
  cs_tensor_alloc (&t, &s, NULL);
  return t;
}

/* Values that keep every op smooth: pow gets positive bases, div divisors away from zero. */
static void
fill_for (cs_op op, int which, cs_tensor *t, cs_rng *rng)
{
  if (op == CS_OP_POW && which == 0)
    cs_fill_uniform (t, rng, 0.5f, 2.0f);
  else if (op == CS_OP_POW)
    cs_fill_uniform (t, rng, -1.5f, 1.5f);
  else if (op == CS_OP_DIV && which == 1)
    {
      cs_fill_uniform (t, rng, 0.7f, 1.5f);
      int64_t n = cs_tensor_numel (t);
      for (int64_t i = 0; i < n; i++)
        if (cs_rng_uniform (rng) < 0.5)
          t->data[i] = -t->data[i];
    }
  else
    cs_fill_uniform (t, rng, -1.0f, 1.0f);
}

static double
apply (cs_op op, double x, double w)
{
  switch (op)
    {
    case CS_OP_ADD: return x + w;
    case CS_OP_SUB: return x - w;
    case CS_OP_MUL: return x * w;
    case CS_OP_DIV: return x / w;
    case CS_OP_POW: return pow (x, w);
    default: return NAN;
    }
}

/* d op / d input `which` */
static double
partial (cs_op op, int which, double x, double w)
{
  switch (op)
    {
    case CS_OP_ADD: return 1;
    case CS_OP_SUB: return which == 0 ? 1 : -1;
    case CS_OP_MUL: return which == 0 ? w : x;
    case CS_OP_DIV: return which == 0 ? 1 / w : -x / (w * w);
    case CS_OP_POW: return which == 0 ? w * pow (x, w - 1) : (x > 0 ? pow (x, w) * log (x) : 0);
    default: return NAN;
    }
}

/* Flat index into s (aligned to the trailing dims of out) of the output coordinate. */
static int64_t
bcast_index (const cs_shape *s, const cs_shape *out, const int64_t *coord)
{
  int64_t idx = 0;
  int32_t off = out->ndim - s->ndim;
  for (int32_t d = 0; d < s->ndim; d++)
    idx = idx * s->dim[d] + (s->dim[d] == 1 ? 0 : coord[d + off]);
  return idx;
}

static void
unravel (const cs_shape *s, int64_t e, int64_t *coord)
{
  for (int32_t d = s->ndim - 1; d >= 0; d--)
    {
      coord[d] = e % s->dim[d];
      e /= s->dim[d];
    }
}

/* Runs forward and backward directly and compares every element with the naive loops. */
static void
check_direct (const char *label, cs_op op, cs_tensor *in, int32_t threads)
{
  const cs_op_info *info = cs_op_get (op);
  cs_node node = { .name = (char *) label, .op = op, .n_inputs = 2, .batched = true,
                   .param_index = -1 };
  const cs_shape *shapes[2] = { &in[0].shape, &in[1].shape };
  cs_error err = { 0 };
  cs_shape os;
  if (info->infer (&node, shapes, &os, &err) != CS_OK)
    {
      CHECK (0, "%s: infer: %s", label, err.message);
      return;
    }
  cs_tensor out, dout, g[2];
  cs_tensor_alloc (&out, &os, NULL);
  cs_tensor_alloc (&dout, &os, NULL);
  cs_tensor_alloc (&g[0], &in[0].shape, NULL);
  cs_tensor_alloc (&g[1], &in[1].shape, NULL);
  cs_rng rng;
  cs_rng_seed (&rng, 7);
  cs_fill_uniform (&dout, &rng, -1, 1);
  cs_op_context ctx = { .threads = threads };
  const cs_tensor *ins[2] = { &in[0], &in[1] };
  cs_tensor *din[2] = { &g[0], &g[1] };
  cs_op_call call = { .node = &node, .n_inputs = 2, .in = ins, .out = &out, .dout = &dout,
                      .din = din, .ctx = &ctx };
  cs_status st = info->forward (&call);
  cs_status st2 = info->backward (&call);

  int64_t n = cs_tensor_numel (&out), coord[CS_MAX_DIMS];
  int64_t bad = 0;
  double *ga = calloc ((size_t) cs_tensor_numel (&in[0]), sizeof (double));
  double *gb = calloc ((size_t) cs_tensor_numel (&in[1]), sizeof (double));
  for (int64_t e = 0; e < n; e++)
    {
      unravel (&os, e, coord);
      int64_t ia = bcast_index (&in[0].shape, &os, coord), ib = bcast_index (&in[1].shape, &os, coord);
      double x = in[0].data[ia], w = in[1].data[ib];
      if (!CLOSE (out.data[e], apply (op, x, w), 1e-6, 1e-5))
        bad++;
      ga[ia] += dout.data[e] * partial (op, 0, x, w);
      gb[ib] += dout.data[e] * partial (op, 1, x, w);
    }
  int64_t bad_g = 0;
  for (int64_t i = 0; i < cs_tensor_numel (&in[0]); i++)
    bad_g += !CLOSE (g[0].data[i], ga[i], 1e-4, 1e-4);
  for (int64_t i = 0; i < cs_tensor_numel (&in[1]); i++)
    bad_g += !CLOSE (g[1].data[i], gb[i], 1e-4, 1e-4);
  char b0[64], b1[64];
  CHECK (st == CS_OK && st2 == CS_OK && bad == 0 && bad_g == 0,
         "%s: %s %s %s forward and backward match the naive loops (%lld, %lld off)", label,
         info->name, cs_shape_format (&in[0].shape, b0, sizeof b0),
         cs_shape_format (&in[1].shape, b1, sizeof b1), (long long) bad, (long long) bad_g);
  free (ga);
  free (gb);
  cs_tensor_free (&out);
  cs_tensor_free (&dout);
  cs_tensor_free (&g[0]);
  cs_tensor_free (&g[1]);
}

/* One broadcasting case: shapes of a and b from random dims. */
typedef struct {
  const char *name;
  int32_t na, nb;
  const char *a, *b; /* dims as letters: N C H W D K, '1' = 1 */
} bcase;

static const bcase cases[] = {
  { "same shape", 4, 4, "NCHW", "NCHW" },
  { "per-channel bias", 4, 3, "NCHW", "C11" },
  { "per-channel on the left", 3, 4, "C11", "NCHW" },
  { "scalar rank 0", 4, 0, "NCHW", "" },
  { "scalar [1] on the left", 1, 4, "1", "NCHW" },
  { "batched gate [N,C,1,1] x [N,C,H,W]", 4, 4, "NC11", "NCHW" },
  { "batched gate on the right", 4, 4, "NCHW", "NC11" },
  { "leading ones [1,1,H,W]", 4, 4, "NCHW", "11HW" },
  { "leading ones [1,C,1,W]", 4, 4, "NCHW", "1C1W" },
  { "rank mismatch [N,K] [K]", 2, 1, "NK", "K" },
  { "rank mismatch [N,C,H,W] [W]", 4, 1, "NCHW", "W" },
  { "rank mismatch [N,C,H,W] [H,1]", 4, 2, "NCHW", "H1" },
  { "mutual [N,C,1,W] [H,1]", 4, 2, "NC1W", "H1" },
  { "mutual [N,1,H,1] [C,1,W]", 4, 3, "N1H1", "C1W" },
  { "5-D per-channel", 5, 4, "NCDHW", "C111" },
  { "both batched [N,K] [N,1]", 2, 2, "NK", "N1" },
  { "both batched [N,1,H,W] [N,C,1,1]", 4, 4, "N1HW", "NC11" },
};

static void
dims_of (const char *spec, int32_t n, const int64_t *letters, int64_t *dims)
{
  for (int32_t i = 0; i < n; i++)
    {
      const char *at = strchr ("NCHWDK", spec[i]);
      dims[i] = spec[i] == '1' ? 1 : letters[at - "NCHWDK"];
    }
}

int
main (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 2024);

  /* Naming the tables also links them in while the registry refers to them weakly. */
  const cs_op_info *tables[] = { &cs_op_add_info, &cs_op_sub_info, &cs_op_mul_info,
                                 &cs_op_div_info, &cs_op_pow_info };
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    CHECK (cs_op_get (ops[k]) == tables[k] && cs_op_from_name (tables[k]->name) == ops[k],
           "op table has %s", tables[k]->name);

  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
      {
        cs_op op = ops[k];
        /* letters N C H W D K: small random sizes, at least 2 so broadcasting is real */
        int64_t letters[6];
        for (int i = 0; i < 6; i++)
          letters[i] = 2 + (int64_t) cs_rng_below (&rng, 3);
        int64_t da[CS_MAX_DIMS], db[CS_MAX_DIMS];
        dims_of (cases[c].a, cases[c].na, letters, da);
        dims_of (cases[c].b, cases[c].nb, letters, db);
        cs_tensor in[2] = { tensor_new (cases[c].na, da), tensor_new (cases[c].nb, db) };
        fill_for (op, 0, &in[0], &rng);
        fill_for (op, 1, &in[1], &rng);
        char label[160];
        snprintf (label, sizeof label, "%s %s", cs_op_get (op)->name, cases[c].name);
        check_direct (label, op, in, 1);
        cs_attrs attrs = { 0 }; /* binary ops have no attributes */
        cs_gradcheck (label, op, &attrs, in, 2, true, NULL);
        cs_tensor_free (&in[0]);
        cs_tensor_free (&in[1]);
      }

  /* x^2 and a per-channel exponent of 2 take the fast path */
  {
    cs_tensor in[2] = { tensor_new (4, (int64_t[]) { 2, 3, 4, 5 }), tensor_new (0, NULL) };
    cs_fill_uniform (&in[0], &rng, -2.0f, 2.0f);
    in[1].data[0] = 2.0f;
    check_direct ("pow x^2 (negative bases too)", CS_OP_POW, in, 1);
    cs_gradcheck_options o = { .check_mask = 1 };
    cs_attrs attrs = { 0 };
    cs_gradcheck ("pow x^2 (negative bases too)", CS_OP_POW, &attrs, in, 2, true, &o);
    cs_fill_uniform (&in[0], &rng, 0.5f, 2.0f);
    in[1].data[0] = 0.5f;
    check_direct ("pow x^0.5", CS_OP_POW, in, 1);
    cs_gradcheck ("pow x^0.5", CS_OP_POW, &attrs, in, 2, true, NULL);
    cs_tensor_free (&in[1]);
    in[1] = tensor_new (3, (int64_t[]) { 3, 1, 1 });
    for (int i = 0; i < 3; i++)
      in[1].data[i] = i == 1 ? 2.0f : 3.0f;
    check_direct ("pow with per-channel exponents 3, 2, 3", CS_OP_POW, in, 1);
    cs_tensor_free (&in[0]);
    cs_tensor_free (&in[1]);
  }

  /* The exponent's gradient is x^w ln x where x > 0 and 0 elsewhere. */
  {
    cs_tensor in[2] = { tensor_new (1, (int64_t[]) { 4 }), tensor_new (1, (int64_t[]) { 4 }) };
    float xs[4] = { 2.0f, 0.0f, -2.0f, 1.0f }, ws[4] = { 1.5f, 2.0f, 2.0f, 3.0f };
    memcpy (in[0].data, xs, sizeof xs);
    memcpy (in[1].data, ws, sizeof ws);
    check_direct ("pow exponent gradient at x <= 0", CS_OP_POW, in, 1);
    cs_tensor_free (&in[0]);
    cs_tensor_free (&in[1]);
  }

  /* Large enough for the threaded forward: a batched gate, same shapes, a scalar. */
  {
    cs_tensor x = tensor_new (4, (int64_t[]) { 2, 16, 33, 35 });
    cs_tensor gate = tensor_new (4, (int64_t[]) { 2, 16, 1, 1 });
    cs_tensor s = tensor_new (0, NULL);
    cs_fill_uniform (&x, &rng, -1, 1);
    cs_fill_uniform (&gate, &rng, -1, 1);
    s.data[0] = 0.25f;
    cs_tensor in[2] = { x, gate };
    check_direct ("threaded mul [N,C,H,W] x [N,C,1,1]", CS_OP_MUL, in, 2);
    in[1] = x;
    check_direct ("threaded add same shape", CS_OP_ADD, in, 2);
    in[0] = s;
    check_direct ("threaded sub scalar - [N,C,H,W]", CS_OP_SUB, in, 2);
    cs_tensor_free (&x);
    cs_tensor_free (&gate);
    cs_tensor_free (&s);
  }

  /* Graph shapes have dim 0 = 1; run-time tensors have dim 0 = N. */
  {
    const cs_op_info *info = cs_op_get (CS_OP_ADD);
    cs_node node = { .name = "bias", .op = CS_OP_ADD, .n_inputs = 2, .batched = true };
    cs_shape ga = cs_shape_4d (1, 3, 2, 2), gb = cs_shape_make (3, (int64_t[]) { 3, 1, 1 }), go;
    const cs_shape *gs[2] = { &ga, &gb };
    cs_error err = { 0 };
    CHECK (info->infer (&node, gs, &go, &err) == CS_OK && cs_shape_equal (&go, &ga),
           "add infers [1,3,2,2] from [1,3,2,2] + [3,1,1]");
    cs_tensor x = tensor_new (4, (int64_t[]) { 5, 3, 2, 2 }), b = tensor_new (3, (int64_t[]) { 3, 1, 1 });
    cs_tensor out = tensor_new (4, (int64_t[]) { 5, 3, 2, 2 }), gx = tensor_new (4, (int64_t[]) { 5, 3, 2, 2 });
    cs_tensor gbias = tensor_new (3, (int64_t[]) { 3, 1, 1 });
    cs_fill_uniform (&x, &rng, -1, 1);
    for (int i = 0; i < 3; i++)
      b.data[i] = (float) (i + 1);
    const cs_tensor *ins[2] = { &x, &b };
    cs_tensor *din[2] = { NULL, &gbias };
    cs_op_context ctx = { .threads = 1 };
    cs_tensor dout = tensor_new (4, (int64_t[]) { 5, 3, 2, 2 });
    for (int i = 0; i < 60; i++)
      dout.data[i] = 1.0f;
    cs_op_call call = { .node = &node, .n_inputs = 2, .in = ins, .out = &out, .dout = &dout,
                        .din = din, .ctx = &ctx };
    CHECK (info->forward (&call) == CS_OK && out.data[59] == x.data[59] + 3.0f
           && out.data[0] == x.data[0] + 1.0f, "add forward at batch 5");
    CHECK (info->backward (&call) == CS_OK && gbias.data[0] == 20.0f && gbias.data[2] == 20.0f,
           "bias gradient sums over batch and space: %g (want 20)", gbias.data[0]);
    CHECK (gx.data[0] == 0.0f, "din[0] == NULL is skipped");
    out.shape.dim[1] = 2;
    CHECK (info->forward (&call) == CS_ERR_SHAPE, "an output of the wrong shape is refused");
    cs_tensor_free (&x);
    cs_tensor_free (&b);
    cs_tensor_free (&out);
    cs_tensor_free (&gx);
    cs_tensor_free (&gbias);
    cs_tensor_free (&dout);
  }

  /* Shared gradient buffer: x * x adds both halves of 2x into one din. */
  {
    const cs_op_info *info = cs_op_get (CS_OP_MUL);
    cs_node node = { .name = "sq", .op = CS_OP_MUL, .n_inputs = 2, .batched = true };
    cs_tensor x = tensor_new (2, (int64_t[]) { 2, 3 }), out = tensor_new (2, (int64_t[]) { 2, 3 });
    cs_tensor dout = tensor_new (2, (int64_t[]) { 2, 3 }), g = tensor_new (2, (int64_t[]) { 2, 3 });
    cs_fill_uniform (&x, &rng, -1, 1);
    cs_fill_uniform (&dout, &rng, -1, 1);
    const cs_tensor *ins[2] = { &x, &x };
    cs_tensor *din[2] = { &g, &g };
    cs_op_context ctx = { .threads = 1 };
    cs_op_call call = { .node = &node, .n_inputs = 2, .in = ins, .out = &out, .dout = &dout,
                        .din = din, .ctx = &ctx };
    info->forward (&call);
    info->backward (&call);
    int bad = 0;
    for (int i = 0; i < 6; i++)
      bad += !CLOSE (g.data[i], 2 * x.data[i] * dout.data[i], 1e-6, 1e-5);
    CHECK (bad == 0, "x * x with one shared din accumulates 2 x dy");
    cs_tensor_free (&x);
    cs_tensor_free (&out);
    cs_tensor_free (&dout);
    cs_tensor_free (&g);
  }

  /* Shapes that do not broadcast are refused with a message. */
  {
    struct { int32_t na, nb; int64_t a[4], b[4]; } bad_cases[] = {
      { 2, 1, { 2, 3 }, { 4 } },
      { 4, 3, { 1, 3, 4, 4 }, { 4, 1, 1 } },
      { 4, 4, { 2, 3, 4, 4 }, { 3, 3, 1, 1 } },
    };
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
      {
        cs_shape a = cs_shape_make (bad_cases[i].na, bad_cases[i].a);
        cs_shape b = cs_shape_make (bad_cases[i].nb, bad_cases[i].b), o;
        const cs_shape *s[2] = { &a, &b };
        cs_node node = { .op = CS_OP_MUL, .n_inputs = 2 };
        cs_error err = { 0 };
        cs_status st = cs_op_get (CS_OP_MUL)->infer (&node, s, &o, &err);
        CHECK (st == CS_ERR_SHAPE && strstr (err.message, "broadcast") != NULL, "refused: %s",
               err.message);
      }
  }

  /* flops: one per output element, powf counted heavier */
  {
    cs_shape a = cs_shape_4d (1, 8, 4, 4), b = cs_shape_make (1, (int64_t[]) { 1 });
    const cs_shape *s[2] = { &a, &b };
    cs_node node = { .op = CS_OP_ADD };
    CHECK (cs_op_get (CS_OP_ADD)->flops (&node, s, &a) == 128, "add flops = numel");
  }
  return test_done ();
}
