/* conv2d: forward and backward against naive direct loops, finite-difference gradient checks over
 * random geometries (stride, asymmetric pads, dilation, groups, depthwise, bias, batch), and the
 * shape errors of infer(). */
#include <string.h>

#include "gradcheck.h"
#include "testlib.h"

typedef struct {
  int64_t n, c, h, w, m, kh, kw;
  int32_t stride[2], pad[4], dilation[2], groups;
  bool bias;
} conv_case;

static cs_attrs
case_attrs (const conv_case *k)
{
  cs_attrs a;
  memset (&a, 0, sizeof a);
  a.window.kernel[0] = (int32_t) k->kh;
  a.window.kernel[1] = (int32_t) k->kw;
  memcpy (a.window.stride, k->stride, sizeof k->stride);
  memcpy (a.window.pad, k->pad, sizeof k->pad);
  memcpy (a.window.dilation, k->dilation, sizeof k->dilation);
  a.window.groups = k->groups;
  return a;
}

static int64_t
out_dim (int64_t in, int32_t pa, int32_t pb, int64_t k, int32_t s, int32_t d)
{
  return (in + pa + pb - d * (k - 1) - 1) / s + 1;
}

static const char *
case_label (const conv_case *k, char *buf, size_t size)
{
  snprintf (buf, size, "x[%lld,%lld,%lld,%lld] w[%lld,%lld,%lld,%lld] s%d,%d p%d,%d,%d,%d d%d,%d g%d%s",
            (long long) k->n, (long long) k->c, (long long) k->h, (long long) k->w,
            (long long) k->m, (long long) (k->c / k->groups), (long long) k->kh, (long long) k->kw,
            k->stride[0], k->stride[1], k->pad[0], k->pad[1], k->pad[2], k->pad[3],
            k->dilation[0], k->dilation[1], k->groups, k->bias ? " bias" : "");
  return buf;
}

/* Direct loops, double accumulation: y, and the backward of loss = sum(y * dy). */
static void
naive_conv (const conv_case *k, const float *x, const float *w, const float *b, float *y,
            const float *dy, double *dx, double *dw, double *db)
{
  int64_t oh_n = out_dim (k->h, k->pad[0], k->pad[2], k->kh, k->stride[0], k->dilation[0]);
  int64_t ow_n = out_dim (k->w, k->pad[1], k->pad[3], k->kw, k->stride[1], k->dilation[1]);
  int64_t cg = k->c / k->groups, mg = k->m / k->groups;
  for (int64_t n = 0; n < k->n; n++)
    for (int64_t m = 0; m < k->m; m++)
      for (int64_t oh = 0; oh < oh_n; oh++)
        for (int64_t ow = 0; ow < ow_n; ow++)
          {
            int64_t yi = ((n * k->m + m) * oh_n + oh) * ow_n + ow;
            double acc = b != NULL ? b[m] : 0.0;
            double g = dy != NULL ? dy[yi] : 0.0;
            if (db != NULL && b != NULL)
              db[m] += g;
            for (int64_t ci = 0; ci < cg; ci++)
              for (int64_t i = 0; i < k->kh; i++)
                for (int64_t j = 0; j < k->kw; j++)
                  {
                    int64_t ih = oh * k->stride[0] - k->pad[0] + i * k->dilation[0];
                    int64_t iw = ow * k->stride[1] - k->pad[1] + j * k->dilation[1];
                    if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w)
                      continue;
                    int64_t c = (m / mg) * cg + ci;
                    int64_t xi = ((n * k->c + c) * k->h + ih) * k->w + iw;
                    int64_t wi = ((m * cg + ci) * k->kh + i) * k->kw + j;
                    acc += (double) x[xi] * w[wi];
                    if (dx != NULL)
                      dx[xi] += g * w[wi];
                    if (dw != NULL)
                      dw[wi] += g * x[xi];
                  }
            if (y != NULL)
              y[yi] = (float) acc;
          }
}

typedef struct {
  cs_tensor in[3];
  int32_t n_inputs;
  cs_shape out_shape;
} conv_tensors;

static void
tensors_make (const conv_case *k, cs_rng *rng, conv_tensors *t)
{
  memset (t, 0, sizeof *t);
  t->n_inputs = k->bias ? 3 : 2;
  cs_shape xs = cs_shape_4d (k->n, k->c, k->h, k->w);
  cs_shape ws = cs_shape_4d (k->m, k->c / k->groups, k->kh, k->kw);
  cs_shape bs = cs_shape_make (1, (int64_t[]) { k->m });
  cs_tensor_alloc (&t->in[0], &xs, NULL);
  cs_tensor_alloc (&t->in[1], &ws, NULL);
  cs_fill_uniform (&t->in[0], rng, -1.0f, 1.0f);
  cs_fill_uniform (&t->in[1], rng, -1.0f, 1.0f);
  if (k->bias)
    {
      cs_tensor_alloc (&t->in[2], &bs, NULL);
      cs_fill_uniform (&t->in[2], rng, -1.0f, 1.0f);
    }
  t->out_shape = cs_shape_4d (k->n, k->m,
                              out_dim (k->h, k->pad[0], k->pad[2], k->kh, k->stride[0], k->dilation[0]),
                              out_dim (k->w, k->pad[1], k->pad[3], k->kw, k->stride[1], k->dilation[1]));
}

static void
tensors_free (conv_tensors *t)
{
  for (int i = 0; i < 3; i++)
    cs_tensor_free (&t->in[i]);
}

static double
max_rel_err (const float *got, const double *want, int64_t n)
{
  double scale = 0, worst = 0;
  for (int64_t i = 0; i < n; i++)
    scale = fmax (scale, fabs (want[i]));
  for (int64_t i = 0; i < n; i++)
    worst = fmax (worst, fabs ((double) got[i] - want[i]));
  return worst / (scale > 1e-30 ? scale : 1.0);
}

/* Forward and backward (all inputs, gradients accumulated onto non-zero din) against the naive
 * loops. Tolerance: float32 sums of up to ~500 products of values in [-1, 1]. */
static void
check_against_naive (const conv_case *k, uint64_t seed)
{
  char label[256];
  case_label (k, label, sizeof label);
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  conv_tensors t;
  tensors_make (k, &rng, &t);
  const cs_op_info *info = cs_op_get (CS_OP_CONV2D);
  cs_node node = { 0 };
  node.name = "conv";
  node.op = CS_OP_CONV2D;
  node.attrs = case_attrs (k);
  node.n_inputs = t.n_inputs;
  node.batched = true;
  const cs_shape *shapes[3] = { &t.in[0].shape, &t.in[1].shape, &t.in[2].shape };
  cs_shape out_shape;
  cs_error err = { 0 };
  cs_status st = info->infer (&node, shapes, &out_shape, &err);
  CHECK (st == CS_OK && cs_shape_equal (&out_shape, &t.out_shape), "%s: infer (%s)", label, err.message);
  if (st != CS_OK)
    {
      tensors_free (&t);
      return;
    }
  node.shape = out_shape;
  node.shape.dim[0] = 1;
  int64_t ws = info->workspace (&node, shapes, &out_shape, k->n);
  float *work = cs_alloc_floats (ws > 0 ? ws : 1);
  int64_t as = info->aux_size (&node, shapes, &out_shape, k->n);
  cs_shape aux_shape = cs_shape_make (1, (int64_t[]) { as > 0 ? as : 1 });
  cs_tensor aux;
  cs_tensor_alloc (&aux, &aux_shape, NULL);
  cs_tensor out, dout, din[3] = { 0 };
  cs_tensor_alloc (&out, &out_shape, NULL);
  cs_tensor_alloc (&dout, &out_shape, NULL);
  cs_fill_uniform (&dout, &rng, -1.0f, 1.0f);
  /* Gradients land on pre-filled buffers: the op must add, not overwrite. */
  for (int i = 0; i < t.n_inputs; i++)
    {
      cs_tensor_alloc (&din[i], &t.in[i].shape, NULL);
      for (int64_t e = 0; e < cs_tensor_numel (&din[i]); e++)
        din[i].data[e] = 0.5f;
    }
  const cs_tensor *ins[3] = { &t.in[0], &t.in[1], &t.in[2] };
  cs_tensor *dins[3] = { &din[0], &din[1], &din[2] };
  cs_op_call call = { .node = &node, .n_inputs = t.n_inputs, .in = ins, .out = &out, .dout = &dout,
                      .din = dins, .work = work, .aux = &aux };
  /* A first forward and backward with other weights, edited in place as training does: what
   * Winograd keeps of them in aux must not survive into the calls below. */
  int64_t nw0 = cs_tensor_numel (&t.in[1]);
  for (int64_t e = 0; e < nw0; e++)
    t.in[1].data[e] = -2.0f * t.in[1].data[e];
  cs_tensor stale[3] = { 0 };
  for (int i = 0; i < t.n_inputs; i++)
    cs_tensor_alloc (&stale[i], &t.in[i].shape, NULL);
  cs_tensor *stale_ptrs[3] = { &stale[0], &stale[1], &stale[2] };
  cs_op_call first = call;
  first.din = stale_ptrs;
  info->forward (&first);
  info->backward (&first);
  for (int64_t e = 0; e < nw0; e++)
    t.in[1].data[e] = -0.5f * t.in[1].data[e];
  for (int i = 0; i < 3; i++)
    cs_tensor_free (&stale[i]);

  for (int64_t e = 0; e < cs_tensor_numel (&out); e++)
    out.data[e] = 1e30f; /* forward must overwrite */
  CHECK (info->forward (&call) == CS_OK, "%s: forward runs", label);
  CHECK (info->backward (&call) == CS_OK, "%s: backward runs", label);

  int64_t ny = cs_tensor_numel (&out);
  int64_t nx = cs_tensor_numel (&t.in[0]), nw = cs_tensor_numel (&t.in[1]);
  double *yr = calloc ((size_t) ny, sizeof (double));
  float *yf = calloc ((size_t) ny, sizeof (float));
  double *dxr = calloc ((size_t) nx, sizeof (double));
  double *dwr = calloc ((size_t) nw, sizeof (double));
  double *dbr = calloc ((size_t) k->m, sizeof (double));
  naive_conv (k, t.in[0].data, t.in[1].data, k->bias ? t.in[2].data : NULL, yf, dout.data, dxr, dwr, dbr);
  for (int64_t e = 0; e < ny; e++)
    yr[e] = yf[e];
  for (int64_t e = 0; e < nx; e++)
    dxr[e] += 0.5;
  for (int64_t e = 0; e < nw; e++)
    dwr[e] += 0.5;
  for (int64_t e = 0; e < k->m; e++)
    dbr[e] += 0.5;
  double ey = max_rel_err (out.data, yr, ny);
  double ex = max_rel_err (din[0].data, dxr, nx);
  double ew = max_rel_err (din[1].data, dwr, nw);
  double eb = k->bias ? max_rel_err (din[2].data, dbr, k->m) : 0.0;
  CHECK (ey < 1e-5 && ex < 1e-5 && ew < 1e-5 && eb < 1e-5,
         "%s: matches naive loops (max rel err y %.2g dx %.2g dw %.2g db %.2g)", label, ey, ex, ew, eb);

  /* din[i] == NULL skips that input and leaves the others right. */
  cs_tensor_zero (&din[0]);
  dins[1] = NULL;
  dins[2] = NULL;
  info->backward (&call);
  for (int64_t e = 0; e < nx; e++)
    dxr[e] -= 0.5;
  ex = max_rel_err (din[0].data, dxr, nx);
  CHECK (ex < 1e-5, "%s: input gradient alone (max rel err %.2g)", label, ex);

  /* Same weights again: whatever the op reuses from aux gives the same output, bit for bit. */
  memcpy (yf, out.data, (size_t) ny * sizeof (float));
  info->forward (&call);
  CHECK (memcmp (yf, out.data, (size_t) ny * sizeof (float)) == 0, "%s: repeated forward", label);

  free (yr);
  free (yf);
  free (dxr);
  free (dwr);
  free (dbr);
  for (int i = 0; i < 3; i++)
    cs_tensor_free (&din[i]);
  cs_tensor_free (&out);
  cs_tensor_free (&dout);
  cs_free_floats (work);
  cs_tensor_free (&aux);
  tensors_free (&t);
}

static int64_t
pick (cs_rng *rng, const int64_t *choices, int n)
{
  return choices[cs_rng_below (rng, (uint64_t) n)];
}

/* A random case: spatial size up to max_extra beyond the kernel, up to max_ch channels per group. */
static conv_case
random_case (cs_rng *rng, int64_t max_extra, int64_t max_ch)
{
  static const int64_t kernels[][2] = { { 1, 1 }, { 3, 3 }, { 5, 5 }, { 1, 3 }, { 3, 2 }, { 2, 2 } };
  conv_case k = { 0 };
  int ki = (int) cs_rng_below (rng, 6);
  k.kh = kernels[ki][0];
  k.kw = kernels[ki][1];
  k.n = pick (rng, (int64_t[]) { 1, 3 }, 2);
  for (int i = 0; i < 2; i++)
    {
      k.stride[i] = (int32_t) (1 + cs_rng_below (rng, 3));
      k.dilation[i] = (int32_t) (1 + cs_rng_below (rng, 2));
    }
  for (int i = 0; i < 4; i++)
    k.pad[i] = (int32_t) cs_rng_below (rng, 3);
  int mode = (int) cs_rng_below (rng, 4); /* 0: plain, 1: groups 2, 2: depthwise, 3: multiplier */
  int64_t cg = 1 + (int64_t) cs_rng_below (rng, (uint64_t) max_ch);
  int64_t mg = 1 + (int64_t) cs_rng_below (rng, (uint64_t) max_ch);
  switch (mode)
    {
    case 0: k.groups = 1; k.c = cg; k.m = mg; break;
    case 1: k.groups = 2; k.c = 2 * cg; k.m = 2 * mg; break;
    case 2: k.c = 1 + (int64_t) cs_rng_below (rng, 4); k.groups = (int32_t) k.c; k.m = k.c; break;
    default: k.c = 1 + (int64_t) cs_rng_below (rng, 4); k.groups = (int32_t) k.c; k.m = 2 * k.c; break;
    }
  k.bias = cs_rng_below (rng, 2) == 1;
  /* spatial size: at least the dilated kernel (minus padding), plus a few */
  int64_t span_h = k.dilation[0] * (k.kh - 1) + 1, span_w = k.dilation[1] * (k.kw - 1) + 1;
  k.h = span_h - k.pad[0] - k.pad[2] + (int64_t) cs_rng_below (rng, (uint64_t) max_extra + 1);
  k.w = span_w - k.pad[1] - k.pad[3] + (int64_t) cs_rng_below (rng, (uint64_t) max_extra + 1);
  if (k.h < 1)
    k.h = 1 + (int64_t) cs_rng_below (rng, 3);
  if (k.w < 1)
    k.w = 1 + (int64_t) cs_rng_below (rng, 3);
  return k;
}

static void
gradcheck_case (const conv_case *k, uint64_t seed, int64_t max_checks)
{
  char label[256];
  case_label (k, label, sizeof label);
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  conv_tensors t;
  tensors_make (k, &rng, &t);
  cs_attrs a = case_attrs (k);
  /* Conv is linear in each input: central differences are exact up to float32 rounding of the
   * few outputs an element touches, so the tolerances can be tight. */
  cs_gradcheck_options o = { .atol = 1e-3, .rtol = 5e-3, .max_checks = max_checks };
  cs_gradcheck (label, CS_OP_CONV2D, &a, t.in, t.n_inputs, true, &o);
  tensors_free (&t);
}

static void
expect_infer_error (const char *what, const cs_shape *x, const cs_shape *w, const cs_attrs *a,
                    const char *needle)
{
  cs_node node = { 0 };
  node.op = CS_OP_CONV2D;
  node.attrs = *a;
  node.n_inputs = 2;
  const cs_shape *shapes[2] = { x, w };
  cs_shape out;
  cs_error err = { 0 };
  cs_status st = cs_op_get (CS_OP_CONV2D)->infer (&node, shapes, &out, &err);
  CHECK (st != CS_OK && strstr (err.message, needle) != NULL, "infer rejects %s: \"%s\"", what, err.message);
}

int
main (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 20240601);
  /* A strong reference: the registry refers to op tables weakly, which pulls nothing in. */
  CHECK (cs_op_get (CS_OP_CONV2D) == &cs_op_conv2d_info, "conv2d is registered");

  /* Hand-picked geometries first: ResNet-like, pointwise in place, depthwise, multi-chunk. */
  conv_case fixed[] = {
    { 1, 3, 9, 9, 4, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 1, true },      /* 3x3 same */
    { 3, 4, 8, 8, 6, 1, 1, { 1, 1 }, { 0, 0, 0, 0 }, { 1, 1 }, 1, false },     /* pointwise */
    { 1, 4, 8, 8, 6, 1, 1, { 1, 1 }, { 0, 0, 0, 0 }, { 1, 1 }, 2, true },      /* pointwise, groups */
    { 3, 8, 9, 9, 8, 3, 3, { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, 8, true },      /* depthwise s2 */
    { 2, 4, 10, 7, 8, 3, 3, { 1, 1 }, { 2, 0, 1, 2 }, { 2, 1 }, 4, false },    /* multiplier, dil */
    { 2, 3, 17, 17, 4, 7, 7, { 2, 2 }, { 3, 3, 3, 3 }, { 1, 1 }, 1, true },    /* stem-like */
    { 5, 3, 20, 20, 4, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 1, true },    /* chunks 3 + 2 */
    { 7, 4, 4, 4, 5, 1, 1, { 1, 1 }, { 0, 0, 0, 0 }, { 1, 1 }, 1, true },      /* pointwise chunked */
    { 2, 16, 32, 32, 16, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 1, true },  /* parallel loops */
    { 2, 32, 24, 24, 32, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 32, true }, /* parallel depthwise */
    { 1, 2, 5, 6, 3, 5, 3, { 3, 1 }, { 0, 2, 2, 0 }, { 1, 2 }, 1, false },     /* asymmetric */
    { 3, 48, 15, 17, 52, 3, 3, { 1, 1 }, { 0, 2, 1, 0 }, { 1, 1 }, 1, true },   /* Winograd, odd */
    { 1, 49, 21, 21, 48, 3, 3, { 1, 1 }, { 3, 0, 2, 3 }, { 1, 1 }, 1, false },   /* Winograd, pad 3 */
    { 3, 48, 90, 90, 48, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 1, true },  /* Winograd chunks across samples */
    { 1, 50, 29, 26, 49, 3, 3, { 1, 1 }, { 1, 2, 0, 1 }, { 1, 1 }, 1, true },   /* Winograd, ragged    */
    { 2, 49, 14, 14, 50, 3, 3, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 1, false },  /* Winograd 14x14, n 2 */
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    check_against_naive (&fixed[i], 100 + i);
  for (int i = 0; i < 60; i++)
    {
      conv_case k = random_case (&rng, 6, 4);
      check_against_naive (&k, 1000 + (uint64_t) i);
    }

  /* 3x3 stride-1 convs with enough channels (in*out >= 24 (in+out)) and output positions
   * (batch * plane >= 128) take the Winograd path. */
  for (int i = 0; i < 12; i++)
    {
      conv_case k = { 0 };
      k.n = i % 2 ? 3 : 1;
      k.c = 48 + (int64_t) cs_rng_below (&rng, 5);
      k.m = 48 + (int64_t) cs_rng_below (&rng, 5);
      k.kh = k.kw = 3;
      k.stride[0] = k.stride[1] = k.dilation[0] = k.dilation[1] = k.groups = 1;
      for (int j = 0; j < 4; j++)
        k.pad[j] = (int32_t) cs_rng_below (&rng, 4);
      int64_t base = k.n == 3 ? 14 : 22;
      k.h = base + (int64_t) cs_rng_below (&rng, 7);
      k.w = base + (int64_t) cs_rng_below (&rng, 7);
      k.bias = i % 3 == 0;
      check_against_naive (&k, 3000 + (uint64_t) i);
      if (i < 4)
        gradcheck_case (&k, 4000 + (uint64_t) i, 50);
    }

  /* Finite differences: validates both the op and the naive reference above. */
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (fixed[i].n * fixed[i].c * fixed[i].h * fixed[i].w <= 2000)
      gradcheck_case (&fixed[i], 200 + i, 120);
  for (int i = 0; i < 40; i++)
    {
      conv_case k = random_case (&rng, 4, 3);
      gradcheck_case (&k, 2000 + (uint64_t) i, 120);
    }

  /* infer() errors */
  cs_attrs a = case_attrs (&fixed[0]);
  cs_shape x1 = cs_shape_4d (1, 1, 8, 8), w3 = cs_shape_4d (4, 3, 3, 3);
  expect_infer_error ("channel mismatch", &x1, &w3, &a, "weight has 3 input channels, input has 1");
  cs_attrs ag = a;
  ag.window.groups = 2;
  cs_shape x4 = cs_shape_4d (1, 4, 8, 8);
  expect_infer_error ("per-group mismatch", &x4, &w3, &ag, "3 input channels per group, input has 2");
  cs_shape x3 = cs_shape_4d (1, 3, 8, 8);
  expect_infer_error ("groups not dividing channels", &x3, &w3, &ag, "not a multiple of groups");
  cs_shape small = cs_shape_4d (1, 3, 2, 2);
  cs_attrs a0 = a;
  memset (a0.window.pad, 0, sizeof a0.window.pad);
  expect_infer_error ("input smaller than kernel", &small, &w3, &a0, "smaller than");
  cs_attrs as = a;
  as.window.stride[1] = 0;
  expect_infer_error ("stride 0", &x3, &w3, &as, "stride");
  cs_attrs ak = a;
  ak.window.kernel[0] = 5;
  expect_infer_error ("kernel attribute vs weight", &x3, &w3, &ak, "kernel_shape");
  cs_shape x3d = cs_shape_make (3, (int64_t[]) { 1, 3, 8 });
  expect_infer_error ("3-D input", &x3d, &w3, &a, "4-D");

  /* FLOPs: 2 * MACs. */
  cs_shape out = cs_shape_4d (1, 4, 8, 8);
  const cs_shape *sh[2] = { &x3, &w3 };
  cs_node node = { 0 };
  node.attrs = a;
  CHECK (cs_op_get (CS_OP_CONV2D)->flops (&node, sh, &out) == 2LL * 4 * 64 * 27, "flops = 2 * MACs");
  return test_done ();
}
