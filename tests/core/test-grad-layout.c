/* Layout ops (flatten, reshape, transpose, slice, concat, pad) over ranks 2 to 5: forward
 * against naive index computations, backward by finite differences (gradcheck). */
#include <string.h>

#include "exec/exec.h"
#include "gradcheck.h"
#include "testlib.h"

static cs_rng rng;

static cs_tensor
tensor_new (int32_t ndim, const int64_t *dims)
{
  cs_tensor t;
  cs_shape s = cs_shape_make (ndim, dims);
  cs_tensor_alloc (&t, &s, NULL);
  return t;
}

static cs_tensor
random_tensor (int32_t ndim, const int64_t *dims)
{
  cs_tensor t = tensor_new (ndim, dims);
  cs_fill_uniform (&t, &rng, -1, 1);
  return t;
}

static void
random_dims (int32_t ndim, int64_t lo, int64_t hi, int64_t *dims)
{
  for (int32_t d = 0; d < ndim; d++)
    dims[d] = lo + (int64_t) cs_rng_below (&rng, (uint64_t) (hi - lo + 1));
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

static int64_t
ravel (const cs_shape *s, const int64_t *coord)
{
  int64_t e = 0;
  for (int32_t d = 0; d < s->ndim; d++)
    e = e * s->dim[d] + coord[d];
  return e;
}

/* Infers the output shape, allocates out and runs forward. */
static cs_status
run_forward (cs_op op, const cs_attrs *attrs, cs_tensor *in, int32_t n, bool batched,
             cs_tensor *out, cs_error *err)
{
  const cs_op_info *info = cs_op_get (op);
  cs_node node = { .name = "t", .op = op, .n_inputs = n, .attrs = *attrs, .batched = batched };
  const cs_shape *shapes[64];
  const cs_tensor *ins[64];
  for (int32_t i = 0; i < n; i++)
    {
      shapes[i] = &in[i].shape;
      ins[i] = &in[i];
    }
  cs_shape os;
  cs_status st = info->infer (&node, shapes, &os, err);
  memset (out, 0, sizeof *out);
  if (st != CS_OK)
    return st;
  cs_tensor_alloc (out, &os, NULL);
  cs_op_context ctx = { .threads = 1 };
  cs_op_call call = { .node = &node, .n_inputs = n, .in = ins, .out = out, .ctx = &ctx };
  return info->forward (&call);
}

static const char *
fmt (const cs_shape *s)
{
  static char bufs[4][96];
  static int k;
  k = (k + 1) % 4;
  return cs_shape_format (s, bufs[k], sizeof bufs[k]);
}

/* ---- transpose ---- */

static void
random_perm (int32_t r, bool keep0, int32_t *perm)
{
  for (int32_t d = 0; d < r; d++)
    perm[d] = d;
  for (int32_t d = r - 1; d > (keep0 ? 1 : 0); d--)
    {
      int32_t lo = keep0 ? 1 : 0;
      int32_t j = lo + (int32_t) cs_rng_below (&rng, (uint64_t) (d - lo + 1));
      int32_t t = perm[d];
      perm[d] = perm[j];
      perm[j] = t;
    }
}

static void
test_transpose (int32_t r, bool batched)
{
  int64_t dims[CS_MAX_DIMS] = { 0 };
  random_dims (r, 1, r > 4 ? 3 : 4, dims);
  cs_tensor x = random_tensor (r, dims), y;
  cs_attrs a = { 0 };
  a.axes.count = r;
  random_perm (r, batched, a.axes.axes);
  cs_error err = { 0 };
  char label[128];
  snprintf (label, sizeof label, "transpose %s perm (%d,%d,%d,%d,%d)%s", fmt (&x.shape),
            a.axes.axes[0], a.axes.axes[1], r > 2 ? a.axes.axes[2] : -1,
            r > 3 ? a.axes.axes[3] : -1, r > 4 ? a.axes.axes[4] : -1, batched ? " batched" : "");
  cs_status st = run_forward (CS_OP_TRANSPOSE, &a, &x, 1, batched, &y, &err);
  int64_t bad = 0, c[CS_MAX_DIMS], ic[CS_MAX_DIMS];
  for (int64_t e = 0; st == CS_OK && e < cs_tensor_numel (&y); e++)
    {
      unravel (&y.shape, e, c);
      for (int32_t d = 0; d < r; d++)
        ic[a.axes.axes[d]] = c[d];
      bad += y.data[e] != x.data[ravel (&x.shape, ic)];
    }
  CHECK (st == CS_OK && bad == 0, "%s forward -> %s: %s", label, fmt (&y.shape),
         st == CS_OK ? "matches" : err.message);
  cs_gradcheck (label, CS_OP_TRANSPOSE, &a, &x, 1, batched, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* ---- flatten and reshape ---- */

static void
test_flatten (int32_t r, int32_t axis)
{
  int64_t dims[CS_MAX_DIMS] = { 0 };
  random_dims (r, 1, 4, dims);
  cs_tensor x = random_tensor (r, dims), y;
  cs_attrs a = { 0 };
  a.axis.axis = axis;
  cs_error err = { 0 };
  char label[128];
  snprintf (label, sizeof label, "flatten %s axis %d", fmt (&x.shape), axis);
  cs_status st = run_forward (CS_OP_FLATTEN, &a, &x, 1, true, &y, &err);
  int64_t outer = 1;
  for (int32_t d = 0; d < axis; d++)
    outer *= dims[d];
  bool ok = st == CS_OK && y.shape.ndim == 2 && y.shape.dim[0] == outer
            && y.shape.dim[1] == cs_tensor_numel (&x) / outer
            && memcmp (y.data, x.data, (size_t) cs_tensor_numel (&x) * sizeof (float)) == 0;
  CHECK (ok, "%s forward -> %s", label, fmt (&y.shape));
  cs_gradcheck (label, CS_OP_FLATTEN, &a, &x, 1, true, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* A random reshape of [N, rest] into a target of rank r2 with dim 0 = 1 (as resolved at load):
 * at batch N > 1 dim 0 becomes N. */
static void
test_reshape (int32_t r, int32_t r2)
{
  int64_t dims[CS_MAX_DIMS], t[CS_MAX_DIMS];
  random_dims (r, 1, 4, dims);
  dims[0] = 3;
  /* target: spread the prime factors of the per-sample size over r2 - 1 dims */
  int64_t rest = 1;
  for (int32_t d = 1; d < r; d++)
    rest *= dims[d];
  t[0] = 1;
  for (int32_t d = 1; d < r2; d++)
    t[d] = 1;
  for (int64_t f = 2, m = rest; m > 1;)
    {
      if (m % f == 0)
        {
          t[1 + (int32_t) cs_rng_below (&rng, (uint64_t) (r2 - 1))] *= f;
          m /= f;
        }
      else
        f++;
    }
  cs_tensor x = random_tensor (r, dims), y;
  cs_attrs a = { 0 };
  a.reshape.shape = cs_shape_make (r2, t);
  cs_error err = { 0 };
  char label[128];
  snprintf (label, sizeof label, "reshape %s to %s", fmt (&x.shape), fmt (&a.reshape.shape));
  cs_status st = run_forward (CS_OP_RESHAPE, &a, &x, 1, true, &y, &err);
  cs_shape want = a.reshape.shape;
  want.dim[0] = 3;
  CHECK (st == CS_OK && cs_shape_equal (&y.shape, &want)
         && memcmp (y.data, x.data, (size_t) cs_tensor_numel (&x) * sizeof (float)) == 0,
         "%s at batch 3 -> %s %s", label, fmt (&y.shape), st == CS_OK ? "" : err.message);
  cs_gradcheck (label, CS_OP_RESHAPE, &a, &x, 1, true, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* shufflenet's channel shuffle: [N,C,H,W] -> [N,g,C/g,H,W] -> transpose (0,2,1,3,4) -> back */
static void
test_channel_shuffle (int64_t n, int64_t g, int64_t k, int64_t h, int64_t w)
{
  int64_t c = g * k;
  cs_tensor x = random_tensor (4, (int64_t[]) { n, c, h, w }), a5, t5, y;
  cs_attrs r1 = { 0 }, tr = { 0 }, r2 = { 0 };
  r1.reshape.shape = cs_shape_make (5, (int64_t[]) { 1, g, k, h, w });
  tr.axes.count = 5;
  memcpy (tr.axes.axes, (int32_t[]) { 0, 2, 1, 3, 4 }, 5 * sizeof (int32_t));
  r2.reshape.shape = cs_shape_4d (1, c, h, w);
  cs_error err = { 0 };
  cs_status st = run_forward (CS_OP_RESHAPE, &r1, &x, 1, true, &a5, &err);
  if (st == CS_OK)
    st = run_forward (CS_OP_TRANSPOSE, &tr, &a5, 1, true, &t5, &err);
  if (st == CS_OK)
    st = run_forward (CS_OP_RESHAPE, &r2, &t5, 1, true, &y, &err);
  int64_t bad = 0;
  for (int64_t b = 0; st == CS_OK && b < n; b++)
    for (int64_t i = 0; i < g; i++)
      for (int64_t j = 0; j < k; j++)
        for (int64_t p = 0; p < h * w; p++)
          bad += y.data[(b * c + j * g + i) * h * w + p] != x.data[(b * c + i * k + j) * h * w + p];
  CHECK (st == CS_OK && bad == 0, "channel shuffle %s groups %lld: channel i*%lld+j lands at j*%lld+i %s",
         fmt (&x.shape), (long long) g, (long long) k, (long long) g, st == CS_OK ? "" : err.message);
  char label[128];
  snprintf (label, sizeof label, "channel shuffle transpose %s", fmt (&a5.shape));
  cs_gradcheck (label, CS_OP_TRANSPOSE, &tr, &a5, 1, true, NULL);
  snprintf (label, sizeof label, "channel shuffle reshape %s", fmt (&x.shape));
  cs_gradcheck (label, CS_OP_RESHAPE, &r1, &x, 1, true, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&a5);
  cs_tensor_free (&t5);
  cs_tensor_free (&y);
}

/* ---- slice ---- */

static void
test_slice (int32_t r, bool batched)
{
  int64_t dims[CS_MAX_DIMS] = { 0 };
  random_dims (r, 1, r > 4 ? 4 : 6, dims);
  cs_tensor x = random_tensor (r, dims), y;
  cs_attrs a = { 0 };
  cs_slice_attrs *s = &a.slice;
  int64_t first[CS_MAX_DIMS], count[CS_MAX_DIMS];
  for (int32_t d = 0; d < r; d++)
    {
      if (d == 0 && batched)
        {
          s->start[0] = 0;
          s->end[0] = dims[0];
          s->step[0] = 1;
        }
      else
        {
          int64_t step = 1 + (int64_t) cs_rng_below (&rng, 3);
          if (cs_rng_uniform (&rng) < 0.4)
            step = -step;
          /* ranges of at least one element, often most of the axis */
          int64_t half = (int64_t) cs_rng_below (&rng, (uint64_t) (dims[d] + 1) / 2 + 1);
          if (step > 0)
            {
              s->start[d] = half < dims[d] ? half : dims[d] - 1;
              s->end[d] = s->start[d] + 1
                          + (int64_t) cs_rng_below (&rng, (uint64_t) (dims[d] - s->start[d]));
            }
          else
            {
              /* end = -1 runs through index 0 */
              s->start[d] = dims[d] - 1 - (half < dims[d] ? half : dims[d] - 1);
              s->end[d] = s->start[d] - 1 - (int64_t) cs_rng_below (&rng, (uint64_t) s->start[d] + 1);
            }
          s->step[d] = step;
        }
      first[d] = s->start[d];
      count[d] = 0;
      for (int64_t i = s->start[d]; s->step[d] > 0 ? i < s->end[d] : i > s->end[d]; i += s->step[d])
        count[d]++;
    }
  cs_error err = { 0 };
  char label[160];
  snprintf (label, sizeof label, "slice %s start/end/step (%lld:%lld:%lld) (%lld:%lld:%lld) ...%s",
            fmt (&x.shape), (long long) s->start[0], (long long) s->end[0], (long long) s->step[0],
            (long long) s->start[1], (long long) s->end[1], (long long) s->step[1],
            batched ? " batched" : "");
  cs_status st = run_forward (CS_OP_SLICE, &a, &x, 1, batched, &y, &err);
  bool shape_ok = st == CS_OK && y.shape.ndim == r;
  for (int32_t d = 0; shape_ok && d < r; d++)
    shape_ok = y.shape.dim[d] == count[d];
  int64_t bad = 0, c[CS_MAX_DIMS], ic[CS_MAX_DIMS];
  for (int64_t e = 0; shape_ok && e < cs_tensor_numel (&y); e++)
    {
      unravel (&y.shape, e, c);
      for (int32_t d = 0; d < r; d++)
        ic[d] = first[d] + c[d] * s->step[d];
      bad += y.data[e] != x.data[ravel (&x.shape, ic)];
    }
  CHECK (shape_ok && bad == 0, "%s forward -> %s %s", label, fmt (&y.shape),
         st == CS_OK ? "" : err.message);
  if (shape_ok && cs_tensor_numel (&y) > 0)
    cs_gradcheck (label, CS_OP_SLICE, &a, &x, 1, batched, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* ---- concat ---- */

static void
test_concat (int32_t n_in, int32_t r)
{
  int64_t dims[CS_MAX_DIMS] = { 0 };
  random_dims (r, 1, n_in > 5 ? 2 : 3, dims);
  int32_t axis = 1 + (int32_t) cs_rng_below (&rng, (uint64_t) (r - 1));
  cs_tensor in[30], y;
  int64_t offset[31] = { 0 };
  for (int32_t i = 0; i < n_in; i++)
    {
      dims[axis] = 1 + (int64_t) cs_rng_below (&rng, 3);
      in[i] = random_tensor (r, dims);
      offset[i + 1] = offset[i] + dims[axis];
    }
  cs_attrs a = { 0 };
  a.axis.axis = axis;
  cs_error err = { 0 };
  char label[128];
  snprintf (label, sizeof label, "concat of %d inputs like %s on axis %d", n_in, fmt (&in[0].shape), axis);
  cs_status st = run_forward (CS_OP_CONCAT, &a, in, n_in, true, &y, &err);
  int64_t bad = 0, c[CS_MAX_DIMS];
  for (int64_t e = 0; st == CS_OK && e < cs_tensor_numel (&y); e++)
    {
      unravel (&y.shape, e, c);
      int32_t i = 0;
      while (c[axis] >= offset[i + 1])
        i++;
      c[axis] -= offset[i];
      bad += y.data[e] != in[i].data[ravel (&in[i].shape, c)];
    }
  CHECK (st == CS_OK && bad == 0 && y.shape.dim[axis] == offset[n_in], "%s forward -> %s %s",
         label, fmt (&y.shape), st == CS_OK ? "" : err.message);
  cs_gradcheck (label, CS_OP_CONCAT, &a, in, n_in, true, NULL);
  for (int32_t i = 0; i < n_in; i++)
    cs_tensor_free (&in[i]);
  cs_tensor_free (&y);
}

/* ---- pad ---- */

/* The naive source index: crop, then walk outwards from the border bouncing between the kept
 * ends (reflect), clamp (edge) or give up (constant). */
static int64_t
naive_pad_source (int64_t p, int64_t dim, int64_t before, int64_t after, cs_pad_mode mode)
{
  int64_t lo = before < 0 ? -before : 0, hi = dim - (after < 0 ? -after : 0);
  int64_t q = p - before;
  if (q >= lo && q < hi)
    return q;
  if (mode == CS_PAD_CONSTANT)
    return -1;
  if (mode == CS_PAD_EDGE)
    return q < lo ? lo : hi - 1;
  int64_t pos = q < lo ? lo : hi - 1, dir = q < lo ? -1 : 1, steps = q < lo ? lo - q : q - hi + 1;
  for (int64_t s = 0; s < steps; s++)
    {
      if (hi - lo == 1)
        break;
      if (pos + dir < lo || pos + dir >= hi)
        dir = -dir;
      pos += dir;
    }
  return pos;
}

static void
test_pad (int32_t r, cs_pad_mode mode, bool crop)
{
  int64_t dims[CS_MAX_DIMS] = { 0 };
  random_dims (r, 1, r > 4 ? 3 : 4, dims);
  cs_attrs a = { 0 };
  cs_pad_attrs *p = &a.pad;
  p->mode = mode;
  p->value = 0.5f;
  for (int32_t d = 1; d < r; d++)
    {
      if (mode == CS_PAD_REFLECT && dims[d] < 2)
        dims[d] = 2;
      p->before[d] = (int64_t) cs_rng_below (&rng, 4);
      p->after[d] = (int64_t) cs_rng_below (&rng, 4);
      if (crop && dims[d] >= 3)
        {
          if (cs_rng_uniform (&rng) < 0.5)
            p->before[d] = -1;
          else
            p->after[d] = -1;
        }
    }
  cs_tensor x = random_tensor (r, dims), y;
  static const char *names[] = { "constant", "reflect", "edge" };
  char label[160];
  snprintf (label, sizeof label, "pad %s %s before (%lld,%lld,..) after (%lld,%lld,..)",
            names[mode], fmt (&x.shape), (long long) p->before[1], (long long) p->before[r - 1],
            (long long) p->after[1], (long long) p->after[r - 1]);
  cs_error err = { 0 };
  cs_status st = run_forward (CS_OP_PAD, &a, &x, 1, true, &y, &err);
  int64_t bad = 0, c[CS_MAX_DIMS], ic[CS_MAX_DIMS];
  for (int64_t e = 0; st == CS_OK && e < cs_tensor_numel (&y); e++)
    {
      unravel (&y.shape, e, c);
      bool constant = false;
      for (int32_t d = 0; d < r; d++)
        {
          ic[d] = naive_pad_source (c[d], dims[d], p->before[d], p->after[d], mode);
          constant |= ic[d] < 0;
        }
      float want = constant ? p->value : x.data[ravel (&x.shape, ic)];
      bad += y.data[e] != want;
    }
  CHECK (st == CS_OK && bad == 0, "%s forward -> %s (%lld off) %s", label, fmt (&y.shape),
         (long long) bad, st == CS_OK ? "" : err.message);
  if (st == CS_OK && cs_tensor_numel (&y) > 0)
    cs_gradcheck (label, CS_OP_PAD, &a, &x, 1, true, NULL);
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* numpy.pad ([1, 2, 3], 5, 'reflect') and 'edge', written out. */
static void
test_pad_numpy (void)
{
  cs_tensor x = tensor_new (2, (int64_t[]) { 1, 3 }), y;
  x.data[0] = 1;
  x.data[1] = 2;
  x.data[2] = 3;
  cs_attrs a = { 0 };
  a.pad.before[1] = a.pad.after[1] = 5;
  a.pad.mode = CS_PAD_REFLECT;
  cs_error err = { 0 };
  const float reflect[13] = { 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2 };
  const float edge[13] = { 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3 };
  cs_status st = run_forward (CS_OP_PAD, &a, &x, 1, true, &y, &err);
  CHECK (st == CS_OK && y.shape.dim[1] == 13 && memcmp (y.data, reflect, sizeof reflect) == 0,
         "reflect pad longer than the axis matches numpy");
  cs_tensor_free (&y);
  a.pad.mode = CS_PAD_EDGE;
  st = run_forward (CS_OP_PAD, &a, &x, 1, true, &y, &err);
  CHECK (st == CS_OK && memcmp (y.data, edge, sizeof edge) == 0, "edge pad matches numpy");
  cs_tensor_free (&y);
  /* crop one, then reflect-pad the other side: [2, 3] -> [2, 3, 2, 3] */
  a.pad.mode = CS_PAD_REFLECT;
  a.pad.before[1] = -1;
  a.pad.after[1] = 2;
  st = run_forward (CS_OP_PAD, &a, &x, 1, true, &y, &err);
  CHECK (st == CS_OK && y.shape.dim[1] == 4 && y.data[0] == 2 && y.data[1] == 3 && y.data[2] == 2
         && y.data[3] == 3, "negative pads crop before reflecting");
  cs_tensor_free (&y);
  cs_tensor_free (&x);
}

/* ---- errors ---- */

static void
expect_refused (const char *what, cs_op op, const cs_attrs *a, cs_tensor *in, int32_t n,
                cs_status code)
{
  cs_tensor y;
  cs_error err = { 0 };
  cs_status st = run_forward (op, a, in, n, true, &y, &err);
  CHECK (st == code && err.message[0] != '\0', "%s is refused: %s", what, err.message);
  cs_tensor_free (&y);
}

static void
test_errors (void)
{
  cs_tensor x = random_tensor (4, (int64_t[]) { 1, 3, 4, 4 });
  cs_tensor z = random_tensor (4, (int64_t[]) { 1, 3, 5, 4 });
  cs_attrs a = { 0 };
  a.axis.axis = 0;
  expect_refused ("flatten axis 0", CS_OP_FLATTEN, &a, &x, 1, CS_ERR_UNSUPPORTED);
  a.axis.axis = 5;
  expect_refused ("flatten axis 5 of a 4-D input", CS_OP_FLATTEN, &a, &x, 1, CS_ERR_UNSUPPORTED);
  memset (&a, 0, sizeof a);
  a.reshape.shape = cs_shape_make (2, (int64_t[]) { 1, 47 });
  expect_refused ("reshape of 48 elements to 47", CS_OP_RESHAPE, &a, &x, 1, CS_ERR_SHAPE);
  memset (&a, 0, sizeof a);
  a.axes.count = 4;
  memcpy (a.axes.axes, (int32_t[]) { 0, 1, 1, 3 }, 4 * sizeof (int32_t));
  expect_refused ("transpose (0,1,1,3)", CS_OP_TRANSPOSE, &a, &x, 1, CS_ERR_SHAPE);
  memcpy (a.axes.axes, (int32_t[]) { 1, 0, 2, 3 }, 4 * sizeof (int32_t));
  expect_refused ("a batched transpose moving dim 0", CS_OP_TRANSPOSE, &a, &x, 1, CS_ERR_UNSUPPORTED);
  memset (&a, 0, sizeof a);
  a.axis.axis = 1;
  cs_tensor xz[2] = { x, z };
  expect_refused ("concat of [1,3,4,4] and [1,3,5,4] on axis 1", CS_OP_CONCAT, &a, xz, 2, CS_ERR_SHAPE);
  a.axis.axis = 0;
  expect_refused ("concat on axis 0", CS_OP_CONCAT, &a, xz, 2, CS_ERR_UNSUPPORTED);
  memset (&a, 0, sizeof a);
  a.slice.step[0] = a.slice.step[1] = a.slice.step[3] = 1;
  a.slice.end[0] = a.slice.end[1] = a.slice.end[2] = a.slice.end[3] = 4;
  expect_refused ("slice step 0", CS_OP_SLICE, &a, &x, 1, CS_ERR_UNSUPPORTED);
  memset (&a, 0, sizeof a);
  a.pad.before[0] = 1;
  expect_refused ("padding the batch", CS_OP_PAD, &a, &x, 1, CS_ERR_UNSUPPORTED);
  memset (&a, 0, sizeof a);
  a.pad.before[2] = -3;
  a.pad.after[2] = -2;
  expect_refused ("cropping 5 of 4", CS_OP_PAD, &a, &x, 1, CS_ERR_SHAPE);
  a.pad.before[2] = -4;
  a.pad.after[2] = 1;
  a.pad.mode = CS_PAD_REFLECT;
  expect_refused ("reflecting an axis cropped to nothing", CS_OP_PAD, &a, &x, 1, CS_ERR_SHAPE);
  cs_tensor_free (&x);
  cs_tensor_free (&z);
}

/* Graph shapes have dim 0 = 1 and the importer clamped the slice of dim 0 to it; at run time
 * the output is [N, ...] and dim 0 passes through. */
static void
test_batched_runtime (void)
{
  cs_attrs a = { 0 };
  for (int32_t d = 0; d < 4; d++)
    {
      a.slice.start[d] = 0;
      a.slice.end[d] = d == 0 ? 1 : 4;
      a.slice.step[d] = 1;
    }
  a.slice.start[3] = 3;
  a.slice.end[3] = -1;
  a.slice.step[3] = -2;
  cs_node node = { .name = "s", .op = CS_OP_SLICE, .n_inputs = 1, .attrs = a, .batched = true };
  cs_shape g = cs_shape_4d (1, 2, 4, 4), go;
  const cs_shape *gs[1] = { &g };
  cs_error err = { 0 };
  const cs_op_info *info = cs_op_get (CS_OP_SLICE);
  CHECK (info->infer (&node, gs, &go, &err) == CS_OK && go.dim[0] == 1 && go.dim[3] == 2,
         "slice infers %s from the graph shape", fmt (&go));
  cs_tensor x = random_tensor (4, (int64_t[]) { 3, 2, 4, 4 }), y = tensor_new (4, (int64_t[]) { 3, 2, 4, 2 });
  const cs_tensor *ins[1] = { &x };
  cs_op_call call = { .node = &node, .n_inputs = 1, .in = ins, .out = &y };
  cs_status st = info->forward (&call);
  CHECK (st == CS_OK && y.data[47] == x.data[93] && y.data[0] == x.data[3],
         "slice at batch 3 keeps all 3 samples");
  y.shape.dim[0] = 4;
  CHECK (info->forward (&call) == CS_ERR_SHAPE, "an output with more samples than the input is refused");
  cs_tensor_free (&x);
  cs_tensor_free (&y);
}

/* ---- through the engine ---- */

/* A small net of only these ops, built at batch 1 and run at batch 3: reflect pad, channel
 * slices (dim 0 clamped to 1 as the importer leaves it), a batched gate [N,2,1,1] times the
 * feature map, a bias parameter, concat, a channel shuffle, flatten and a square. */
static cs_graph *
build_layout_net (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 4, 3, 3);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_attrs pad = { 0 };
  pad.pad.mode = CS_PAD_REFLECT;
  pad.pad.before[2] = pad.pad.before[3] = pad.pad.after[2] = pad.pad.after[3] = 1;
  int32_t p = cs_graph_add_op (g, CS_OP_PAD, "pad", NULL, &x, 1, &pad, err);
  cs_attrs sl = { 0 };
  for (int32_t d = 0; d < 4; d++)
    {
      sl.slice.end[d] = d == 0 ? 1 : 5;
      sl.slice.step[d] = 1;
    }
  sl.slice.end[1] = 2;
  int32_t s1 = cs_graph_add_op (g, CS_OP_SLICE, "s1", NULL, &p, 1, &sl, err);
  sl.slice.start[1] = 2;
  sl.slice.end[1] = 4;
  int32_t s2 = cs_graph_add_op (g, CS_OP_SLICE, "s2", NULL, &p, 1, &sl, err);
  sl.slice.start[1] = 0;
  sl.slice.end[1] = 2;
  sl.slice.start[2] = sl.slice.start[3] = 4;
  sl.slice.end[2] = -1;
  sl.slice.step[2] = -5;
  sl.slice.end[3] = 5;
  int32_t gate = cs_graph_add_op (g, CS_OP_SLICE, "gate", NULL, &s2, 1, &sl, err);
  int32_t m = cs_graph_add_op (g, CS_OP_MUL, "mul", NULL, (int32_t[]) { s1, gate }, 2, NULL, err);
  cs_shape bs = cs_shape_make (3, (int64_t[]) { 2, 1, 1 });
  int32_t b = cs_graph_add_param (g, "bias", &bs, err);
  int32_t a = cs_graph_add_op (g, CS_OP_ADD, "add", NULL, (int32_t[]) { m, b }, 2, NULL, err);
  cs_attrs cat = { 0 };
  cat.axis.axis = 1;
  int32_t c = cs_graph_add_op (g, CS_OP_CONCAT, "cat", NULL, (int32_t[]) { a, s2, s1 }, 3, &cat, err);
  cs_attrs r1 = { 0 }, tr = { 0 };
  r1.reshape.shape = cs_shape_make (5, (int64_t[]) { 1, 2, 3, 5, 5 });
  int32_t rs = cs_graph_add_op (g, CS_OP_RESHAPE, "split", NULL, &c, 1, &r1, err);
  tr.axes.count = 5;
  memcpy (tr.axes.axes, (int32_t[]) { 0, 2, 1, 3, 4 }, 5 * sizeof (int32_t));
  int32_t t = cs_graph_add_op (g, CS_OP_TRANSPOSE, "shuffle", NULL, &rs, 1, &tr, err);
  cs_attrs fl = { 0 };
  fl.axis.axis = 1;
  int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flat", NULL, &t, 1, &fl, err);
  cs_tensor two;
  cs_shape one = cs_shape_make (1, (int64_t[]) { 1 });
  cs_tensor_alloc (&two, &one, NULL);
  two.data[0] = 2.0f;
  int32_t k = cs_graph_add_const (g, "two", &two, err);
  int32_t out = cs_graph_add_op (g, CS_OP_POW, "square", NULL, (int32_t[]) { f, k }, 2, NULL, err);
  if (out < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  return g;
}

static double
net_loss (cs_exec *e, const cs_tensor *input, const cs_tensor *r)
{
  cs_error err;
  if (cs_exec_forward (e, input, &err) != CS_OK)
    return NAN;
  const cs_tensor *out = cs_exec_value (e, cs_exec_model (e)->graph->output_node);
  double s = 0;
  for (int64_t i = 0; i < cs_tensor_numel (out); i++)
    s += (double) out->data[i] * r->data[i];
  return s;
}

static void
test_through_exec (void)
{
  cs_error err = { 0 };
  /* naming a table links elementwise.c in while the registry refers to it weakly */
  CHECK (cs_op_get (CS_OP_POW) == &cs_op_pow_info, "op table has pow");
  cs_graph *g = build_layout_net (&err);
  CHECK (g != NULL, "build a net of layout and elementwise ops: %s", g ? "ok" : err.message);
  if (g == NULL)
    return;
  CHECK (g->nodes[g->output_node].shape.dim[1] == 150, "output is [1, 150]");
  cs_model *m = cs_model_new (g, &err);
  cs_graph_unref (g);
  if (m == NULL)
    {
      CHECK (0, "model: %s", err.message);
      return;
    }
  m->weights[0].data[0] = 0.3f;
  m->weights[0].data[1] = -0.2f;
  cs_exec *e = cs_exec_new (m, 3, &err);
  CHECK (e != NULL, "exec for batch 3: %s", e ? "ok" : err.message);
  if (e == NULL)
    {
      cs_model_free (m);
      return;
    }
  cs_tensor x = random_tensor (4, (int64_t[]) { 3, 4, 3, 3 });
  cs_tensor r = random_tensor (2, (int64_t[]) { 3, 150 });
  double l0 = net_loss (e, &x, &r);
  CHECK (!isnan (l0), "forward at batch 3");
  cs_status st = cs_exec_backward (e, m->graph->output_node, &r, CS_GRAD_INPUT | CS_GRAD_PARAMS, &err);
  CHECK (st == CS_OK, "backward at batch 3: %s", st == CS_OK ? "ok" : err.message);
  if (st != CS_OK)
    goto out;
  cs_tensor gx, gb;
  cs_tensor_copy (&gx, cs_exec_grad (e, m->graph->input_node), NULL);
  cs_tensor_copy (&gb, cs_exec_param_grad (e, 0), NULL);
  int64_t bad = 0;
  const double h = 1e-2;
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    {
      float v = x.data[i];
      x.data[i] = (float) (v + h);
      double lp = net_loss (e, &x, &r);
      x.data[i] = (float) (v - h);
      double lm = net_loss (e, &x, &r);
      x.data[i] = v;
      bad += !CLOSE (gx.data[i], (lp - lm) / (2 * h), 2e-3, 2e-2);
    }
  CHECK (bad == 0, "input gradient through the net matches finite differences (%lld of 108 off)",
         (long long) bad);
  bad = 0;
  for (int64_t i = 0; i < 2; i++)
    {
      float v = m->weights[0].data[i];
      m->weights[0].data[i] = (float) (v + h);
      double lp = net_loss (e, &x, &r);
      m->weights[0].data[i] = (float) (v - h);
      double lm = net_loss (e, &x, &r);
      m->weights[0].data[i] = v;
      bad += !CLOSE (gb.data[i], (lp - lm) / (2 * h), 2e-3, 2e-2);
    }
  CHECK (bad == 0, "bias gradient sums over the batch and matches finite differences");
  cs_tensor_free (&gx);
  cs_tensor_free (&gb);
out:
  cs_tensor_free (&x);
  cs_tensor_free (&r);
  cs_exec_free (e);
  cs_model_free (m);
}

int
main (void)
{
  cs_rng_seed (&rng, 99);
  const cs_op_info *tables[] = { &cs_op_flatten_info, &cs_op_reshape_info, &cs_op_transpose_info,
                                 &cs_op_slice_info, &cs_op_concat_info, &cs_op_pad_info };
  const cs_op ops[] = { CS_OP_FLATTEN, CS_OP_RESHAPE, CS_OP_TRANSPOSE, CS_OP_SLICE, CS_OP_CONCAT,
                        CS_OP_PAD };
  for (int k = 0; k < 6; k++)
    CHECK (cs_op_get (ops[k]) == tables[k] && cs_op_from_name (tables[k]->name) == ops[k],
           "op table has %s", tables[k]->name);

  for (int32_t r = 2; r <= 5; r++)
    {
      for (int i = 0; i < 3; i++)
        {
          test_transpose (r, true);
          test_transpose (r, false);
          test_slice (r, true);
          test_slice (r, false);
        }
      for (int32_t axis = 1; axis <= r; axis++)
        test_flatten (r, axis);
      for (int32_t r2 = 2; r2 <= 5; r2++)
        test_reshape (r, r2);
      for (int mode = 0; mode < 3; mode++)
        {
          test_pad (r, (cs_pad_mode) mode, false);
          test_pad (r, (cs_pad_mode) mode, true);
        }
    }
  test_channel_shuffle (2, 2, 3, 2, 3);
  test_channel_shuffle (3, 3, 2, 1, 2);
  test_channel_shuffle (1, 4, 4, 3, 3);
  int32_t counts[] = { 1, 2, 5, 30 };
  for (int i = 0; i < 4; i++)
    for (int32_t r = 2; r <= 5; r++)
      test_concat (counts[i], r);
  test_pad_numpy ();
  test_batched_runtime ();
  test_errors ();
  test_through_exec ();
  return test_done ();
}
