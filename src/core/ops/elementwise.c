/* Binary elementwise ops (add, sub, mul, div, pow) with numpy/ONNX multidirectional
 * broadcasting; backward sums each input's gradient over the dims it was broadcast along,
 * which is how a bias-like parameter gets its gradient summed over the batch. */
#include <math.h>
#include <string.h>

#include "graph/ops.h"

/* Iteration plan over the (contiguous) output: size-1 dims dropped and neighbouring dims merged
 * wherever both inputs step through them alike, so the common cases become one flat loop (same
 * shape, scalar), rows against one value (per-channel [C,1,1], or a batched gate [N,C,1,1]
 * against [N,C,H,W]), or rows against one row. Input strides are 0 along broadcast dims; in
 * the innermost dim they are always 0 or 1. */
typedef struct {
  int32_t ndim;
  int64_t dim[CS_MAX_DIMS];
  int64_t sa[CS_MAX_DIMS], sb[CS_MAX_DIMS];
  int64_t numel;
} bcast_plan;

static const char *
node_name (const cs_node *node)
{
  return node != NULL && node->name != NULL ? node->name : "?";
}

static const char *
op_name (const cs_node *node)
{
  const cs_op_info *info = cs_op_get (node->op);
  return info != NULL && info->name != NULL ? info->name : "?";
}

static int64_t
aligned_dim (const cs_shape *s, int32_t rank, int32_t d)
{
  int32_t k = d - (rank - s->ndim);
  return k >= 0 ? s->dim[k] : 1;
}

static bool
broadcast_shape (const cs_shape *a, const cs_shape *b, cs_shape *out)
{
  int32_t r = a->ndim > b->ndim ? a->ndim : b->ndim;
  memset (out, 0, sizeof *out);
  out->ndim = r;
  for (int32_t d = 0; d < r; d++)
    {
      int64_t da = aligned_dim (a, r, d), db = aligned_dim (b, r, d);
      if (da == db || db == 1)
        out->dim[d] = da;
      else if (da == 1)
        out->dim[d] = db;
      else
        return false;
    }
  return true;
}

static void
aligned_strides (const cs_shape *s, int32_t r, int64_t *st)
{
  int64_t acc = 1;
  for (int32_t d = r - 1; d >= 0; d--)
    {
      int64_t dim = aligned_dim (s, r, d);
      st[d] = dim == 1 ? 0 : acc;
      acc *= dim;
    }
}

static void
plan_make (const cs_shape *a, const cs_shape *b, const cs_shape *out, bcast_plan *p)
{
  int32_t r = out->ndim;
  int64_t sa[CS_MAX_DIMS], sb[CS_MAX_DIMS];
  aligned_strides (a, r, sa);
  aligned_strides (b, r, sb);
  p->ndim = 0;
  p->numel = 1;
  for (int32_t d = 0; d < r; d++)
    {
      int64_t n = out->dim[d];
      p->numel *= n;
      if (n == 1)
        continue;
      int32_t k = p->ndim - 1;
      if (k >= 0 && p->sa[k] == sa[d] * n && p->sb[k] == sb[d] * n)
        {
          p->dim[k] *= n;
          p->sa[k] = sa[d];
          p->sb[k] = sb[d];
          continue;
        }
      p->dim[p->ndim] = n;
      p->sa[p->ndim] = sa[d];
      p->sb[p->ndim] = sb[d];
      p->ndim++;
    }
  if (p->ndim == 0)
    {
      p->ndim = 1;
      p->dim[0] = 1;
      p->sa[0] = p->sb[0] = 0;
    }
}

/* Walks output elements [e0, e1) row by row: calls fn once per (partial) innermost row with
 * the offsets of the row start in a, b and the output. */
typedef void (*row_fn) (void *user, int64_t oa, int64_t ob, int64_t oo, int64_t n);

static void
plan_walk (const bcast_plan *p, int64_t e0, int64_t e1, row_fn fn, void *user)
{
  int32_t last = p->ndim - 1;
  int64_t idx[CS_MAX_DIMS], oa = 0, ob = 0, rest = e0;
  for (int32_t d = last; d >= 0; d--)
    {
      idx[d] = rest % p->dim[d];
      rest /= p->dim[d];
      oa += idx[d] * p->sa[d];
      ob += idx[d] * p->sb[d];
    }
  int64_t e = e0;
  while (e < e1)
    {
      int64_t n = p->dim[last] - idx[last];
      if (n > e1 - e)
        n = e1 - e;
      fn (user, oa, ob, e, n);
      e += n;
      if (e >= e1)
        break;
      /* the row ended: step to the next one */
      oa -= idx[last] * p->sa[last];
      ob -= idx[last] * p->sb[last];
      idx[last] = 0;
      for (int32_t d = last - 1; d >= 0; d--)
        {
          oa += p->sa[d];
          ob += p->sb[d];
          if (++idx[d] < p->dim[d])
            break;
          oa -= p->sa[d] * p->dim[d];
          ob -= p->sb[d] * p->dim[d];
          idx[d] = 0;
        }
    }
}

/* ---- forward ---- */

/* One row per op; a stride is 0 (one value for the whole row) or 1, and each combination gets
 * its own loop so that the compiler vectorises it. */
#define BINARY_ROW(NAME, EXPR)                                                              \
  static void                                                                               \
  NAME (float *o, const float *pa, int64_t sa, const float *pb, int64_t sb, int64_t n)      \
  {                                                                                         \
    if (sa == 1 && sb == 1)                                                                 \
      for (int64_t i = 0; i < n; i++)                                                       \
        {                                                                                   \
          float x = pa[i], w = pb[i];                                                       \
          (void) w; o[i] = (EXPR);                                                          \
        }                                                                                   \
    else if (sa == 1)                                                                       \
      {                                                                                     \
        float w = pb[0];                                                                    \
        for (int64_t i = 0; i < n; i++)                                                     \
          {                                                                                 \
            float x = pa[i];                                                                \
            (void) w; o[i] = (EXPR);                                                        \
          }                                                                                 \
      }                                                                                     \
    else if (sb == 1)                                                                       \
      {                                                                                     \
        float x = pa[0];                                                                    \
        for (int64_t i = 0; i < n; i++)                                                     \
          {                                                                                 \
            float w = pb[i];                                                                \
            (void) w; o[i] = (EXPR);                                                        \
          }                                                                                 \
      }                                                                                     \
    else                                                                                    \
      {                                                                                     \
        float x = pa[0], w = pb[0], v = (EXPR);                                             \
        (void) w;                                                                           \
        for (int64_t i = 0; i < n; i++)                                                     \
          o[i] = v;                                                                         \
      }                                                                                     \
  }

BINARY_ROW (row_add, x + w)
BINARY_ROW (row_sub, x - w)
BINARY_ROW (row_mul, x * w)
BINARY_ROW (row_div, x / w)
BINARY_ROW (row_pow_any, powf (x, w))
BINARY_ROW (row_square, x * x)
BINARY_ROW (row_sqrt, sqrtf (x))

typedef struct {
  cs_op op;
  const bcast_plan *plan;
  const float *a, *b;
  float *out;
} forward_job;

static void
forward_row (void *user, int64_t oa, int64_t ob, int64_t oo, int64_t n)
{
  const forward_job *j = user;
  int32_t last = j->plan->ndim - 1;
  int64_t sa = j->plan->sa[last], sb = j->plan->sb[last];
  const float *pa = j->a + oa, *pb = j->b + ob;
  float *o = j->out + oo;
  switch (j->op)
    {
    case CS_OP_ADD: row_add (o, pa, sa, pb, sb, n); break;
    case CS_OP_SUB: row_sub (o, pa, sa, pb, sb, n); break;
    case CS_OP_MUL: row_mul (o, pa, sa, pb, sb, n); break;
    case CS_OP_DIV: row_div (o, pa, sa, pb, sb, n); break;
    case CS_OP_POW:
      /* x^2 (variances) and x^0.5 are common enough to skip powf, ten times slower */
      if (sb == 0 && pb[0] == 2.0f)
        row_square (o, pa, sa, pb, sb, n);
      else if (sb == 0 && pb[0] == 0.5f)
        row_sqrt (o, pa, sa, pb, sb, n);
      else
        row_pow_any (o, pa, sa, pb, sb, n);
      break;
    default: break;
    }
}

/* Checks the run-time shapes and builds the plan; the output must be their broadcast. A graph
 * where a batched input has fewer dims than the other side (so that broadcasting would move the
 * batch off dim 0) passes infer at batch 1 but is refused here at N > 1. */
static cs_status
plan_for_call (const cs_op_call *call, const cs_tensor *out, bcast_plan *p, cs_error *err)
{
  const cs_shape *a = &call->in[0]->shape, *b = &call->in[1]->shape;
  cs_shape s;
  char ba[96], bb[96], bo[96];
  if (!broadcast_shape (a, b, &s) || !cs_shape_equal (&s, &out->shape))
    return cs_error_set (err, CS_ERR_SHAPE, "node '%s' (%s): inputs %s and %s do not broadcast "
                         "to the output %s", node_name (call->node), op_name (call->node),
                         cs_shape_format (a, ba, sizeof ba), cs_shape_format (b, bb, sizeof bb),
                         cs_shape_format (&out->shape, bo, sizeof bo));
  plan_make (a, b, &s, p);
  return CS_OK;
}

/* Below this many outputs a second thread costs more than it saves. */
#define PARALLEL_MIN 32768

static cs_status
binary_forward (const cs_op_call *call)
{
  bcast_plan p;
  cs_error err;
  if (plan_for_call (call, call->out, &p, &err) != CS_OK)
    return err.code;
  forward_job job = { .op = call->node->op, .plan = &p, .a = call->in[0]->data,
                      .b = call->in[1]->data, .out = call->out->data };
  int32_t nt = call->ctx != NULL ? call->ctx->threads : 1;
  if (nt > 1 && p.numel >= PARALLEL_MIN)
    {
      int64_t chunks = nt;
#pragma omp parallel for num_threads (nt) schedule (static)
      for (int64_t t = 0; t < chunks; t++)
        plan_walk (&p, p.numel * t / chunks, p.numel * (t + 1) / chunks, forward_row, &job);
    }
  else
    plan_walk (&p, 0, p.numel, forward_row, &job);
  return CS_OK;
}

/* ---- backward ---- */

/* The gradient of one row into g with stride sg: 0 means g is one element that the whole row
 * feeds (a broadcast input), summed in double so that long reductions over the batch and the
 * spatial dims keep their precision. Variables: dy the output gradient, x and w the two
 * inputs, y the saved output. */
#define GRAD_ROW(NAME, EXPR)                                                                \
  static void                                                                               \
  NAME (float *g, int64_t sg, const float *dy, const float *pa, int64_t sa,                 \
        const float *pb, int64_t sb, const float *py, int64_t n)                            \
  {                                                                                         \
    if (sg == 0)                                                                            \
      {                                                                                     \
        double s = 0;                                                                       \
        for (int64_t i = 0; i < n; i++)                                                     \
          {                                                                                 \
            float d = dy[i], x = pa[i * sa], w = pb[i * sb], y = py[i];                     \
            (void) x; (void) w; (void) y;                                                   \
            s += (double) (EXPR);                                                           \
          }                                                                                 \
        g[0] += (float) s;                                                                  \
      }                                                                                     \
    else                                                                                    \
      for (int64_t i = 0; i < n; i++)                                                       \
        {                                                                                   \
          float d = dy[i], x = pa[i * sa], w = pb[i * sb], y = py[i];                       \
          (void) x; (void) w; (void) y;                                                     \
          g[i] += (EXPR);                                                                   \
        }                                                                                   \
  }

GRAD_ROW (grad_pass, d)
GRAD_ROW (grad_neg, -d)
GRAD_ROW (grad_mul_a, d * w)
GRAD_ROW (grad_mul_b, d * x)
GRAD_ROW (grad_div_a, d / w)
GRAD_ROW (grad_div_b, -d * y / w)
GRAD_ROW (grad_pow_a, d * w * powf (x, w - 1.0f))
GRAD_ROW (grad_square_a, 2.0f * d * x)
/* d/dw x^w = x^w ln x is real only for x > 0; elsewhere (x <= 0, where x^w is real only for
 * integer w and the exponent is then not differentiable in any useful sense) it is taken as 0. */
GRAD_ROW (grad_pow_b, x > 0.0f ? d * y * logf (x) : 0.0f)

typedef void (*grad_row_fn) (float *, int64_t, const float *, const float *, int64_t,
                             const float *, int64_t, const float *, int64_t);

typedef struct {
  grad_row_fn fn;
  const bcast_plan *plan;
  const float *a, *b, *y, *dy;
  float *g;
  int which;
} backward_job;

static void
backward_row (void *user, int64_t oa, int64_t ob, int64_t oo, int64_t n)
{
  const backward_job *j = user;
  int32_t last = j->plan->ndim - 1;
  int64_t sa = j->plan->sa[last], sb = j->plan->sb[last];
  float *g = j->g + (j->which == 0 ? oa : ob);
  int64_t sg = j->which == 0 ? sa : sb;
  j->fn (g, sg, j->dy + oo, j->a + oa, sa, j->b + ob, sb, j->y + oo, n);
}

static grad_row_fn
grad_kernel (cs_op op, int which, const cs_tensor *b)
{
  switch (op)
    {
    case CS_OP_ADD: return grad_pass;
    case CS_OP_SUB: return which == 0 ? grad_pass : grad_neg;
    case CS_OP_MUL: return which == 0 ? grad_mul_a : grad_mul_b;
    case CS_OP_DIV: return which == 0 ? grad_div_a : grad_div_b;
    case CS_OP_POW:
      if (which == 1)
        return grad_pow_b;
      return cs_tensor_numel (b) == 1 && b->data[0] == 2.0f ? grad_square_a : grad_pow_a;
    default: return NULL;
    }
}

/* dst = src, n floats, in blocks on nt threads when large. */
static void
copy_floats (float *dst, const float *src, int64_t n, int32_t nt)
{
  if (nt <= 1 || n < PARALLEL_MIN)
    {
      memcpy (dst, src, (size_t) n * sizeof (float));
      return;
    }
#pragma omp parallel for num_threads (nt) schedule (static)
  for (int64_t t = 0; t < nt; t++)
    {
      int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
      memcpy (dst + lo, src + lo, (size_t) (hi - lo) * sizeof (float));
    }
}

static cs_status
binary_backward (const cs_op_call *call)
{
  bcast_plan p;
  cs_error err;
  if (plan_for_call (call, call->dout, &p, &err) != CS_OK)
    return err.code;
  for (int which = 0; which < 2; which++)
    {
      cs_tensor *g = call->din[which];
      if (g == NULL)
        continue;
      if (!cs_shape_equal (&g->shape, &call->in[which]->shape))
        return CS_ERR_SHAPE;
      int32_t nt = call->ctx != NULL ? call->ctx->threads : 1;
      if (cs_din_fresh (call, which))
        {
          /* The gradient of an added input of the output's own shape is dy itself (ResNet's
           * residual adds): copied, where zeroing and adding would pass over it twice. */
          if ((call->node->op == CS_OP_ADD || (call->node->op == CS_OP_SUB && which == 0))
              && cs_shape_equal (&g->shape, &call->dout->shape))
            {
              copy_floats (g->data, call->dout->data, cs_tensor_numel (g), nt);
              continue;
            }
          memset (g->data, 0, (size_t) cs_tensor_numel (g) * sizeof (float));
        }
      backward_job job = { .fn = grad_kernel (call->node->op, which, call->in[1]), .plan = &p,
                           .a = call->in[0]->data, .b = call->in[1]->data,
                           .y = call->out->data, .dy = call->dout->data, .g = g->data,
                           .which = which };
      if (job.fn == NULL)
        return CS_ERR_UNSUPPORTED;
      /* A broadcast input's gradient is a reduction that threads would race on: only an
       * input of the output's full shape is split across threads. */
      bool full = true;
      for (int32_t d = 0; d < p.ndim; d++)
        full = full && (which == 0 ? p.sa[d] : p.sb[d]) != 0;
      if (full && nt > 1 && p.numel >= PARALLEL_MIN)
        {
          int64_t chunks = nt;
#pragma omp parallel for num_threads (nt) schedule (static)
          for (int64_t t = 0; t < chunks; t++)
            plan_walk (&p, p.numel * t / chunks, p.numel * (t + 1) / chunks, backward_row, &job);
        }
      else
        plan_walk (&p, 0, p.numel, backward_row, &job);
    }
  return CS_OK;
}

/* ---- shapes and costs ---- */

static cs_status
binary_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  char ba[96], bb[96];
  if (!broadcast_shape (in[0], in[1], out))
    return cs_error_set (err, CS_ERR_SHAPE, "cannot broadcast %s with %s (numpy rules: trailing "
                         "dims must be equal or 1)", cs_shape_format (in[0], ba, sizeof ba),
                         cs_shape_format (in[1], bb, sizeof bb));
  if (cs_shape_numel (out) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "the output %s is larger than %lld elements",
                         cs_shape_format (out, ba, sizeof ba), (long long) CS_MAX_ELEMENTS);
  return CS_OK;
}

static int64_t
binary_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  int64_t n = cs_shape_numel (out);
  /* powf costs about as much as a handful of multiply-adds */
  return node->op == CS_OP_POW ? 8 * n : n;
}

#define BINARY_INFO(VAR, NAME)                                                  \
  const cs_op_info VAR = { .name = NAME, .min_inputs = 2, .max_inputs = 2,                  \
                           .infer = binary_infer, .forward = binary_forward,                \
                           .backward = binary_backward, .flops = binary_flops,              \
                           .fresh_din = true }

BINARY_INFO (cs_op_add_info, "add");
BINARY_INFO (cs_op_sub_info, "sub");
BINARY_INFO (cs_op_mul_info, "mul");
BINARY_INFO (cs_op_div_info, "div");
BINARY_INFO (cs_op_pow_info, "pow");
