/* Load-time evaluation of nodes whose inputs are all known (shape arithmetic, Constant,
 * weights preprocessing), so that the runtime graph has no shape ops. Integers stay int64,
 * floats are computed in double and stored as float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx/onnx_private.h"

/* Ops that make a large tensor out of a few numbers are bounded far below CS_MAX_ELEMENTS:
 * shape arithmetic never needs more, and a crafted file must not make us allocate gigabytes. */
#define FOLD_MAX_GENERATED ((int64_t) 1 << 24)

typedef cs_status (*fold_fn) (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err);

static const cs_onnx_const *
in_const (cs_onnx_ctx *ctx, int32_t k, cs_error *err)
{
  return cs_onnx_input_const (ctx, k, err);
}

/* Reads an int list from input k (a 0-D or 1-D integer constant). Returns the count or -1. */
static int32_t
in_ints (cs_onnx_ctx *ctx, int32_t k, int64_t *out, int32_t max, cs_error *err)
{
  const cs_onnx_const *c = in_const (ctx, k, err);

  if (c == NULL)
    return -1;
  if (c->ndim > 1 || c->numel > max)
    {
      cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "input %d must be a list of at most %d "
                          "integers", k, max);
      return -1;
    }
  for (int64_t j = 0; j < c->numel; j++)
    out[j] = cs_onnx_const_get_int (c, j);
  return (int32_t) c->numel;
}

static cs_status
copy_const (cs_onnx_const *dst, const cs_onnx_const *src, int32_t ndim, const int64_t *dim,
            cs_error *err)
{
  /* Check the element count before allocating: the target shape comes from the file. */
  int64_t want = 1;
  for (int32_t k = 0; k < ndim; k++)
    want = dim[k] < 0 ? -1 : cs_onnx_mul_sat (want, dim[k]);
  if (want != src->numel)
    return cs_error_set (err, CS_ERR_SHAPE, "cannot reshape %lld elements into a shape of %lld",
                         (long long) src->numel, (long long) want);
  cs_status st = cs_onnx_const_alloc (dst, ndim, dim, src->is_int, err);

  if (st != CS_OK)
    return st;
  if (dst->numel != src->numel)
    {
      cs_onnx_const_free (dst);
      return cs_error_set (err, CS_ERR_SHAPE, "cannot reshape %lld elements into %lld",
                           (long long) src->numel, (long long) dst->numel);
    }
  if (src->is_int)
    memcpy (dst->i, src->i, (size_t) src->numel * sizeof *src->i);
  else
    memcpy (dst->f, src->f, (size_t) src->numel * sizeof *src->f);
  return CS_OK;
}

static cs_status
fold_constant (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const Onnx__AttributeProto *a;
  int64_t one = 1;

  if ((a = cs_onnx_attr (ctx, "value")) != NULL && a->t != NULL)
    return cs_onnx_const_from_proto (out, a->t, err);
  if ((a = cs_onnx_attr (ctx, "value_float")) != NULL)
    {
      cs_status st = cs_onnx_const_alloc (out, 0, NULL, false, err);
      if (st == CS_OK)
        out->f[0] = a->f;
      return st;
    }
  if ((a = cs_onnx_attr (ctx, "value_int")) != NULL)
    {
      cs_status st = cs_onnx_const_alloc (out, 0, NULL, true, err);
      if (st == CS_OK)
        out->i[0] = a->i;
      return st;
    }
  if ((a = cs_onnx_attr (ctx, "value_floats")) != NULL)
    {
      int64_t n = (int64_t) a->n_floats;
      cs_status st = cs_onnx_const_alloc (out, 1, &n, false, err);
      for (int64_t k = 0; st == CS_OK && k < n; k++)
        out->f[k] = a->floats[k];
      return st;
    }
  if ((a = cs_onnx_attr (ctx, "value_ints")) != NULL)
    {
      int64_t n = (int64_t) a->n_ints;
      cs_status st = cs_onnx_const_alloc (out, 1, &n, true, err);
      for (int64_t k = 0; st == CS_OK && k < n; k++)
        out->i[k] = a->ints[k];
      return st;
    }
  (void) one;
  return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Constant without a supported value "
                             "attribute (value, value_float(s), value_int(s))");
}

static cs_status
fold_shape (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  cs_onnx_value *v = cs_onnx_input (ctx, 0, err);
  int64_t dims[CS_ONNX_MAX_DIMS], n, start, end;
  int32_t rank;
  cs_status st;

  if (v == NULL)
    return err->code;
  if (v->kind == CS_ONNX_VALUE_NODE)
    {
      const cs_shape *s = &ctx->g->nodes[v->node].shape;
      rank = s->ndim;
      for (int32_t k = 0; k < rank; k++)
        dims[k] = s->dim[k];
    }
  else
    {
      rank = v->c.ndim;
      for (int32_t k = 0; k < rank; k++)
        dims[k] = v->c.dim[k];
    }
  if (strcmp (ctx->node->op_type, "Size") == 0)
    {
      int64_t total = 1;
      for (int32_t k = 0; k < rank; k++)
        total *= dims[k];
      st = cs_onnx_const_alloc (out, 0, NULL, true, err);
      if (st == CS_OK)
        out->i[0] = total;
      return st;
    }
  start = cs_onnx_attr_int (ctx, "start", 0);
  end = cs_onnx_attr_int (ctx, "end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = start < 0 ? 0 : start > rank ? rank : start;
  end = end < 0 ? 0 : end > rank ? rank : end;
  n = end > start ? end - start : 0;
  st = cs_onnx_const_alloc (out, 1, &n, true, err);
  for (int64_t k = 0; st == CS_OK && k < n; k++)
    out->i[k] = dims[start + k];
  return st;
}

/* numpy broadcasting of a and b into out's shape; index maps for element k. */
static cs_status
broadcast_shape (cs_onnx_ctx *ctx, const cs_onnx_const *const *in, int32_t n, int32_t *ndim,
                 int64_t *dim, cs_error *err)
{
  *ndim = 0;
  for (int32_t j = 0; j < n; j++)
    if (in[j]->ndim > *ndim)
      *ndim = in[j]->ndim;
  for (int32_t k = 0; k < *ndim; k++)
    {
      dim[k] = 1;
      for (int32_t j = 0; j < n; j++)
        {
          int32_t off = *ndim - in[j]->ndim;
          int64_t d = k >= off ? in[j]->dim[k - off] : 1;
          if (d == dim[k] || d == 1)
            continue;
          if (dim[k] != 1)
            return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "operands cannot be broadcast");
          dim[k] = d;
        }
    }
  return CS_OK;
}

static int64_t
broadcast_index (const cs_onnx_const *c, int32_t ndim, const int64_t *dim, int64_t k)
{
  int64_t idx = 0, stride = 1;
  int32_t off = ndim - c->ndim;

  for (int32_t d = ndim - 1; d >= 0; d--)
    {
      int64_t coord = k % dim[d];
      k /= dim[d];
      if (d >= off)
        {
          int64_t cd = c->dim[d - off];
          idx += (cd == 1 ? 0 : coord) * stride;
          stride *= cd;
        }
    }
  return idx;
}

/* An output of dim that is larger than both FOLD_MAX_GENERATED and its largest input
 * (largest_in elements) is refused: folding that grows a few numbers into gigabytes (Gather
 * with repeated indices, a broadcast of [n, 1] against [1, n]) is an attack, not a model. */
static cs_status
check_generated (cs_onnx_ctx *ctx, const char *what, int32_t ndim, const int64_t *dim,
                 int64_t largest_in, cs_error *err)
{
  int64_t limit = largest_in > FOLD_MAX_GENERATED ? largest_in : FOLD_MAX_GENERATED, total = 1;
  for (int32_t k = 0; k < ndim && total > 0; k++)
    {
      if (dim[k] > 0 && total > limit / dim[k])
        return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "%s beyond %lld elements", what,
                                   (long long) limit);
      total *= dim[k];
    }
  return CS_OK;
}

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MIN, BIN_MAX, BIN_EQUAL, BIN_LESS,
               BIN_GREATER, BIN_WHERE } bin_kind;

static cs_status
fold_elementwise (cs_onnx_ctx *ctx, bin_kind kind, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *in[3];
  int32_t n = kind == BIN_WHERE ? 3 : 2, ndim;
  int64_t dim[CS_ONNX_MAX_DIMS];
  bool is_int;
  cs_status st;

  for (int32_t j = 0; j < n; j++)
    if ((in[j] = in_const (ctx, j, err)) == NULL)
      return err->code;
  st = broadcast_shape (ctx, in, n, &ndim, dim, err);
  int64_t largest_in = 0;
  for (int32_t j = 0; j < n; j++)
    largest_in = in[j]->numel > largest_in ? in[j]->numel : largest_in;
  if (st == CS_OK)
    st = check_generated (ctx, "broadcast", ndim, dim, largest_in, err);
  if (st != CS_OK)
    return st;
  if (kind == BIN_WHERE)
    is_int = in[1]->is_int && in[2]->is_int;
  else if (kind == BIN_EQUAL || kind == BIN_LESS || kind == BIN_GREATER)
    is_int = true;
  else
    is_int = in[0]->is_int && in[1]->is_int;
  st = cs_onnx_const_alloc (out, ndim, dim, is_int, err);
  if (st != CS_OK)
    return st;
  for (int64_t k = 0; k < out->numel; k++)
    {
      double a = cs_onnx_const_get (in[0], broadcast_index (in[0], ndim, dim, k));
      double b = cs_onnx_const_get (in[1], broadcast_index (in[1], ndim, dim, k));
      int64_t ia = 0, ib = 0;
      double r = 0;
      bool ints = in[0]->is_int && in[1]->is_int;
      if (ints)
        {
          ia = in[0]->i[broadcast_index (in[0], ndim, dim, k)];
          ib = in[1]->i[broadcast_index (in[1], ndim, dim, k)];
        }
      switch (kind)
        {
        case BIN_ADD: r = a + b; if (ints) { out->i[k] = (int64_t) ((uint64_t) ia + (uint64_t) ib); continue; } break;
        case BIN_SUB: r = a - b; if (ints) { out->i[k] = (int64_t) ((uint64_t) ia - (uint64_t) ib); continue; } break;
        case BIN_MUL: r = a * b; if (ints) { out->i[k] = (int64_t) ((uint64_t) ia * (uint64_t) ib); continue; } break;
        case BIN_DIV:
          if (ints)
            {
              out->i[k] = ib == 0 || (ib == -1 && ia == INT64_MIN) ? 0 : ia / ib;
              continue;
            }
          r = a / b;
          break;
        case BIN_POW: r = pow (a, b); break;
        case BIN_MIN: r = a < b ? a : b; if (ints) { out->i[k] = ia < ib ? ia : ib; continue; } break;
        case BIN_MAX: r = a > b ? a : b; if (ints) { out->i[k] = ia > ib ? ia : ib; continue; } break;
        case BIN_EQUAL: out->i[k] = ints ? ia == ib : a == b; continue;
        case BIN_LESS: out->i[k] = ints ? ia < ib : a < b; continue;
        case BIN_GREATER: out->i[k] = ints ? ia > ib : a > b; continue;
        case BIN_WHERE:
          {
            int64_t j1 = broadcast_index (in[1], ndim, dim, k);
            int64_t j2 = broadcast_index (in[2], ndim, dim, k);
            bool cond = a != 0;
            if (is_int)
              out->i[k] = cond ? in[1]->i[j1] : in[2]->i[j2];
            else
              out->f[k] = (float) (cond ? cs_onnx_const_get (in[1], j1) : cs_onnx_const_get (in[2], j2));
            continue;
          }
        }
      if (is_int)
        out->i[k] = isfinite (r) && fabs (r) < 9e18 ? (int64_t) r : 0;
      else
        out->f[k] = (float) r;
    }
  return CS_OK;
}

typedef enum { UN_SQRT, UN_EXP, UN_NEG, UN_FLOOR, UN_CEIL, UN_ABS, UN_RELU, UN_NOT, UN_RECIPROCAL,
               UN_SIGMOID, UN_TANH, UN_ERF } un_kind;

static cs_status
fold_unary (cs_onnx_ctx *ctx, un_kind kind, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  cs_status st;

  if (a == NULL)
    return err->code;
  st = cs_onnx_const_alloc (out, a->ndim, a->dim, a->is_int, err);
  for (int64_t k = 0; st == CS_OK && k < a->numel; k++)
    {
      double x = cs_onnx_const_get (a, k), r = x;
      switch (kind)
        {
        case UN_SQRT: r = sqrt (x); break;
        case UN_EXP: r = exp (x); break;
        case UN_NEG: r = -x; break;
        case UN_FLOOR: r = floor (x); break;
        case UN_CEIL: r = ceil (x); break;
        case UN_ABS: r = fabs (x); break;
        case UN_RELU: r = x > 0 ? x : 0; break;
        case UN_NOT: r = x == 0; break;
        case UN_RECIPROCAL: r = 1 / x; break;
        case UN_SIGMOID: r = 1 / (1 + exp (-x)); break;
        case UN_TANH: r = tanh (x); break;
        case UN_ERF: r = erf (x); break;
        }
      if (a->is_int)
        out->i[k] = kind == UN_NEG ? -a->i[k] : kind == UN_ABS ? llabs (a->i[k])
                    : isfinite (r) && fabs (r) < 9e18 ? (int64_t) r : 0;
      else
        out->f[k] = (float) r;
    }
  return st;
}

static cs_status
fold_cast (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  int64_t to = cs_onnx_attr_int (ctx, "to", 1);
  bool is_int = !(to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
                  || to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
  cs_status st;

  if (a == NULL)
    return err->code;
  st = cs_onnx_const_alloc (out, a->ndim, a->dim, is_int, err);
  for (int64_t k = 0; st == CS_OK && k < a->numel; k++)
    {
      if (is_int)
        out->i[k] = to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? cs_onnx_const_get (a, k) != 0
                    : cs_onnx_const_get_int (a, k);
      else
        out->f[k] = (float) cs_onnx_const_get (a, k);
    }
  return st;
}

/* Axes of Squeeze/Unsqueeze/ReduceMean: attribute before opset 13, input from 13. */
static int32_t
axes_list (cs_onnx_ctx *ctx, int32_t input, int64_t *axes, cs_error *err)
{
  if (ctx->opset >= 13)
    {
      if (!cs_onnx_has_input (ctx, input))
        return 0;
      return in_ints (ctx, input, axes, CS_ONNX_MAX_DIMS, err);
    }
  {
    int32_t n = cs_onnx_attr_ints (ctx, "axes", axes, CS_ONNX_MAX_DIMS);
    if (n == -2)
      {
        cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "too many axes");
        return -1;
      }
    return n < 0 ? 0 : n;
  }
}

static cs_status
fold_squeeze (cs_onnx_ctx *ctx, bool unsqueeze, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  int64_t axes[CS_ONNX_MAX_DIMS], dim[CS_ONNX_MAX_DIMS];
  bool mark[CS_ONNX_MAX_DIMS] = { false };
  int32_t n, ndim = 0, out_rank;

  if (a == NULL)
    return err->code;
  n = axes_list (ctx, 1, axes, err);
  if (n < 0)
    return err->code;
  out_rank = unsqueeze ? a->ndim + n : a->ndim;
  if (out_rank > CS_ONNX_MAX_DIMS)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "result of rank %d", out_rank);
  for (int32_t k = 0; k < n; k++)
    {
      int32_t ax = cs_onnx_axis (axes[k], out_rank);
      if (ax < 0 || mark[ax])
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis %lld",
                                  (long long) axes[k]);
      mark[ax] = true;
    }
  if (unsqueeze)
    {
      for (int32_t k = 0, j = 0; k < out_rank; k++)
        dim[ndim++] = mark[k] ? 1 : a->dim[j++];
    }
  else
    for (int32_t k = 0; k < a->ndim; k++)
      {
        if ((n == 0 && a->dim[k] == 1) || (n > 0 && mark[k]))
          continue;
        dim[ndim++] = a->dim[k];
      }
  return copy_const (out, a, ndim, dim, err);
}

static cs_status
fold_reshape (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  int64_t shape[CS_ONNX_MAX_DIMS], known = 1;
  int32_t n, neg = -1;

  if (a == NULL)
    return err->code;
  if (strcmp (ctx->node->op_type, "Flatten") == 0)
    {
      int32_t axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", 1), a->ndim + 1);
      int64_t d0 = 1;
      if (axis < 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis");
      for (int32_t k = 0; k < axis; k++)
        d0 *= a->dim[k];
      shape[0] = d0;
      shape[1] = d0 > 0 ? a->numel / d0 : 0;
      return copy_const (out, a, 2, shape, err);
    }
  n = in_ints (ctx, 1, shape, CS_ONNX_MAX_DIMS, err);
  if (n < 0)
    return err->code;
  for (int32_t k = 0; k < n; k++)
    {
      if (shape[k] == 0 && !cs_onnx_attr_int (ctx, "allowzero", 0))
        {
          if (k >= a->ndim)
            return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "0 in shape beyond the input rank");
          shape[k] = a->dim[k];
        }
      if (shape[k] == -1 && neg < 0)
        neg = k;
      else if (shape[k] < 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "invalid target shape");
      else
        known = cs_onnx_mul_sat (known, shape[k]);
    }
  if (neg >= 0)
    {
      if (known == 0 || a->numel % known != 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "cannot infer -1 in target shape");
      shape[neg] = a->numel / known;
    }
  return copy_const (out, a, n, shape, err);
}

static cs_status
fold_concat (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *first = in_const (ctx, 0, err);
  int64_t dim[CS_ONNX_MAX_DIMS], outer = 1, offset = 0;
  int32_t axis;
  bool is_int = true;
  cs_status st;

  if (first == NULL)
    return err->code;
  axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", 0), first->ndim);
  if (axis < 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis");
  memcpy (dim, first->dim, sizeof dim);
  dim[axis] = 0;
  for (size_t j = 0; j < ctx->node->n_input; j++)
    {
      const cs_onnx_const *c = in_const (ctx, (int32_t) j, err);
      if (c == NULL)
        return err->code;
      if (c->ndim != first->ndim)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "inputs of different ranks");
      for (int32_t k = 0; k < c->ndim; k++)
        if (k != axis && c->dim[k] != first->dim[k])
          return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "inputs of different shapes");
      dim[axis] += c->dim[axis];
      is_int = is_int && c->is_int;
    }
  st = cs_onnx_const_alloc (out, first->ndim, dim, is_int, err);
  if (st != CS_OK)
    return st;
  for (int32_t k = 0; k < axis; k++)
    outer *= dim[k];
  for (size_t j = 0; j < ctx->node->n_input; j++)
    {
      const cs_onnx_const *c = in_const (ctx, (int32_t) j, err);
      int64_t inner = outer > 0 ? c->numel / outer : 0, row = outer > 0 ? out->numel / outer : 0;
      for (int64_t o = 0; o < outer; o++)
        for (int64_t e = 0; e < inner; e++)
          {
            int64_t d = o * row + offset + e, s = o * inner + e;
            if (is_int)
              out->i[d] = c->i[s];
            else
              out->f[d] = (float) cs_onnx_const_get (c, s);
          }
      offset += inner;
    }
  return CS_OK;
}

static cs_status
fold_gather (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *data = in_const (ctx, 0, err), *idx;
  int64_t dim[CS_ONNX_MAX_DIMS], outer = 1, inner = 1;
  int32_t axis, ndim = 0;
  cs_status st;

  if (data == NULL || (idx = in_const (ctx, 1, err)) == NULL)
    return err->code;
  axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", 0), data->ndim);
  if (axis < 0 || data->ndim + idx->ndim - 1 > CS_ONNX_MAX_DIMS)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis or rank");
  for (int32_t k = 0; k < axis; k++)
    dim[ndim++] = data->dim[k];
  for (int32_t k = 0; k < idx->ndim; k++)
    dim[ndim++] = idx->dim[k];
  for (int32_t k = axis + 1; k < data->ndim; k++)
    dim[ndim++] = data->dim[k];
  /* Repeated indices make the output larger than the data (a fuzzed 893-byte file asked for
   * 14 GB). */
  st = check_generated (ctx, "Gather", ndim, dim, data->numel, err);
  if (st != CS_OK)
    return st;
  st = cs_onnx_const_alloc (out, ndim, dim, data->is_int, err);
  if (st != CS_OK)
    return st;
  for (int64_t j = 0; j < idx->numel; j++)
    {
      int64_t i = cs_onnx_const_get_int (idx, j);
      if (i < -data->dim[axis] || i >= data->dim[axis])
        {
          cs_onnx_const_free (out);
          return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "index %lld out of range", (long long) i);
        }
    }
  if (data->numel == 0 || idx->numel == 0)
    return CS_OK;
  /* Only now are the products bounded: an empty tensor's other dims may be anything (a fuzzed
   * [2^62, 0, 108] overflowed them). */
  for (int32_t k = 0; k < axis; k++)
    outer *= data->dim[k];
  for (int32_t k = axis + 1; k < data->ndim; k++)
    inner *= data->dim[k];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < idx->numel; j++)
      {
        int64_t i = cs_onnx_const_get_int (idx, j);
        if (i < 0)
          i += data->dim[axis];
        for (int64_t e = 0; e < inner; e++)
          {
            int64_t s = (o * data->dim[axis] + i) * inner + e, d = (o * idx->numel + j) * inner + e;
            if (data->is_int)
              out->i[d] = data->i[s];
            else
              out->f[d] = data->f[s];
          }
      }
  return CS_OK;
}

static cs_status
fold_constant_of_shape (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  int64_t shape[CS_ONNX_MAX_DIMS];
  int32_t n = in_ints (ctx, 0, shape, CS_ONNX_MAX_DIMS, err);
  const Onnx__AttributeProto *a = cs_onnx_attr (ctx, "value");
  cs_onnx_const v = { 0 };
  cs_status st;

  if (n < 0)
    return err->code;
  {
    int64_t total = 1;
    for (int32_t k = 0; k < n; k++)
      {
        if (shape[k] < 0 || (shape[k] > 0 && total > FOLD_MAX_GENERATED / shape[k]))
          return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "ConstantOfShape beyond %lld "
                                     "elements", (long long) FOLD_MAX_GENERATED);
        total *= shape[k];
      }
  }
  if (a != NULL && a->t != NULL)
    {
      st = cs_onnx_const_from_proto (&v, a->t, err);
      if (st != CS_OK)
        return st;
    }
  st = cs_onnx_const_alloc (out, n, shape, a != NULL && a->t != NULL ? v.is_int : false, err);
  for (int64_t k = 0; st == CS_OK && k < out->numel && v.numel > 0; k++)
    {
      if (out->is_int)
        out->i[k] = v.i[0];
      else
        out->f[k] = v.f[0];
    }
  cs_onnx_const_free (&v);
  return st;
}

static cs_status
fold_range (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *c[3];
  double start, limit, delta;
  int64_t n;

  for (int32_t j = 0; j < 3; j++)
    if ((c[j] = in_const (ctx, j, err)) == NULL)
      return err->code;
  start = cs_onnx_const_get (c[0], 0);
  limit = cs_onnx_const_get (c[1], 0);
  delta = cs_onnx_const_get (c[2], 0);
  if (delta == 0 || c[0]->numel < 1 || c[1]->numel < 1 || c[2]->numel < 1)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid range");
  {
    double steps = ceil ((limit - start) / delta);
    if (!(steps <= (double) FOLD_MAX_GENERATED))
      return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "range too large");
    n = steps > 0 ? (int64_t) steps : 0;
  }
  if (n > FOLD_MAX_GENERATED)
    return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "range too large");
  if (cs_onnx_const_alloc (out, 1, &n, c[0]->is_int, err) != CS_OK)
    return err->code;
  for (int64_t k = 0; k < n; k++)
    {
      if (out->is_int)
        out->i[k] = (int64_t) (start + (double) k * delta);
      else
        out->f[k] = (float) (start + (double) k * delta);
    }
  return CS_OK;
}

static cs_status
fold_slice (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  int64_t starts[CS_ONNX_MAX_DIMS], ends[CS_ONNX_MAX_DIMS], axes[CS_ONNX_MAX_DIMS],
    steps[CS_ONNX_MAX_DIMS];
  int64_t st_[CS_ONNX_MAX_DIMS], step[CS_ONNX_MAX_DIMS], dim[CS_ONNX_MAX_DIMS];
  int32_t n, na, ns;

  if (a == NULL)
    return err->code;
  if (ctx->opset < 10)
    {
      n = cs_onnx_attr_ints (ctx, "starts", starts, CS_ONNX_MAX_DIMS);
      if (cs_onnx_attr_ints (ctx, "ends", ends, CS_ONNX_MAX_DIMS) != n || n < 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "starts and ends differ");
      na = cs_onnx_attr_ints (ctx, "axes", axes, CS_ONNX_MAX_DIMS);
      ns = -1;
    }
  else
    {
      n = in_ints (ctx, 1, starts, CS_ONNX_MAX_DIMS, err);
      if (n < 0 || in_ints (ctx, 2, ends, CS_ONNX_MAX_DIMS, err) != n)
        return n < 0 ? err->code : cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "starts and ends differ");
      na = cs_onnx_has_input (ctx, 3) ? in_ints (ctx, 3, axes, CS_ONNX_MAX_DIMS, err) : -1;
      ns = cs_onnx_has_input (ctx, 4) ? in_ints (ctx, 4, steps, CS_ONNX_MAX_DIMS, err) : -1;
    }
  for (int32_t k = 0; k < a->ndim; k++)
    {
      st_[k] = 0;
      step[k] = 1;
      dim[k] = a->dim[k];
    }
  for (int32_t j = 0; j < n; j++)
    {
      int32_t ax = cs_onnx_axis (na >= 0 ? axes[j] : j, a->ndim);
      int64_t s = starts[j], e = ends[j], p = ns >= 0 ? steps[j] : 1, d;
      if (ax < 0 || p == 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis or step");
      d = a->dim[ax];
      if (s < 0) s += d;
      if (e < 0) e += d;
      if (p > 0)
        {
          s = s < 0 ? 0 : s > d ? d : s;
          e = e < 0 ? 0 : e > d ? d : e;
          dim[ax] = e > s ? (e - s + p - 1) / p : 0;
        }
      else
        {
          s = s < 0 ? -1 : s > d - 1 ? d - 1 : s;
          e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
          dim[ax] = s > e ? (s - e + (-p) - 1) / (-p) : 0;
        }
      st_[ax] = s;
      step[ax] = p;
    }
  if (cs_onnx_const_alloc (out, a->ndim, dim, a->is_int, err) != CS_OK)
    return err->code;
  for (int64_t k = 0; k < out->numel; k++)
    {
      int64_t rem = k, src = 0, stride = 1;
      for (int32_t d = a->ndim - 1; d >= 0; d--)
        {
          int64_t coord = rem % dim[d];
          rem /= dim[d];
          src += (st_[d] + coord * step[d]) * stride;
          stride = cs_onnx_mul_sat (stride, a->dim[d]);
        }
      if (a->is_int)
        out->i[k] = a->i[src];
      else
        out->f[k] = a->f[src];
    }
  return CS_OK;
}

static cs_status
fold_transpose (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);
  int64_t perm[CS_ONNX_MAX_DIMS], dim[CS_ONNX_MAX_DIMS], istride[CS_ONNX_MAX_DIMS];
  int32_t n;

  if (a == NULL)
    return err->code;
  n = cs_onnx_attr_ints (ctx, "perm", perm, CS_ONNX_MAX_DIMS);
  if (n < 0)
    for (n = 0; n < a->ndim; n++)
      perm[n] = a->ndim - 1 - n;
  if (n != a->ndim)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "perm of the wrong length");
  istride[a->ndim - 1 < 0 ? 0 : a->ndim - 1] = 1;
  for (int32_t k = a->ndim - 2; k >= 0; k--)
    istride[k] = cs_onnx_mul_sat (istride[k + 1], a->dim[k + 1]); /* dims of an empty tensor may be huge */
  for (int32_t k = 0; k < n; k++)
    {
      if (perm[k] < 0 || perm[k] >= n)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid perm");
      dim[k] = a->dim[perm[k]];
    }
  if (cs_onnx_const_alloc (out, a->ndim, dim, a->is_int, err) != CS_OK)
    return err->code;
  for (int64_t k = 0; k < out->numel; k++)
    {
      int64_t rem = k, src = 0;
      for (int32_t d = n - 1; d >= 0; d--)
        {
          src += (rem % dim[d]) * istride[perm[d]];
          rem /= dim[d];
        }
      if (a->is_int)
        out->i[k] = a->i[src];
      else
        out->f[k] = a->f[src];
    }
  return CS_OK;
}

static cs_status
fold_identity (cs_onnx_ctx *ctx, cs_onnx_const *out, cs_error *err)
{
  const cs_onnx_const *a = in_const (ctx, 0, err);

  if (a == NULL)
    return err->code;
  return copy_const (out, a, a->ndim, a->dim, err);
}

static cs_status
dispatch (cs_onnx_ctx *ctx, const char *op, cs_onnx_const *out, bool *handled, cs_error *err)
{
  static const struct { const char *name; bin_kind kind; } bins[] = {
    { "Add", BIN_ADD }, { "Sub", BIN_SUB }, { "Mul", BIN_MUL }, { "Div", BIN_DIV },
    { "Pow", BIN_POW }, { "Min", BIN_MIN }, { "Max", BIN_MAX }, { "Equal", BIN_EQUAL },
    { "Less", BIN_LESS }, { "Greater", BIN_GREATER }, { "Where", BIN_WHERE } };
  static const struct { const char *name; un_kind kind; } uns[] = {
    { "Sqrt", UN_SQRT }, { "Exp", UN_EXP }, { "Neg", UN_NEG }, { "Floor", UN_FLOOR },
    { "Ceil", UN_CEIL }, { "Abs", UN_ABS }, { "Relu", UN_RELU }, { "Not", UN_NOT },
    { "Reciprocal", UN_RECIPROCAL }, { "Sigmoid", UN_SIGMOID }, { "Tanh", UN_TANH },
    { "Erf", UN_ERF } };
  static const struct { const char *name; fold_fn fn; } fns[] = {
    { "Constant", fold_constant }, { "Shape", fold_shape }, { "Size", fold_shape },
    { "Cast", fold_cast }, { "Reshape", fold_reshape }, { "Flatten", fold_reshape },
    { "Concat", fold_concat }, { "Gather", fold_gather }, { "ConstantOfShape", fold_constant_of_shape },
    { "Range", fold_range }, { "Slice", fold_slice }, { "Transpose", fold_transpose },
    { "Identity", fold_identity } };

  *handled = true;
  for (size_t k = 0; k < sizeof bins / sizeof bins[0]; k++)
    if (strcmp (op, bins[k].name) == 0)
      return fold_elementwise (ctx, bins[k].kind, out, err);
  for (size_t k = 0; k < sizeof uns / sizeof uns[0]; k++)
    if (strcmp (op, uns[k].name) == 0)
      return fold_unary (ctx, uns[k].kind, out, err);
  for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
    if (strcmp (op, fns[k].name) == 0)
      return fns[k].fn (ctx, out, err);
  if (strcmp (op, "Squeeze") == 0 || strcmp (op, "Unsqueeze") == 0)
    return fold_squeeze (ctx, op[0] == 'U', out, err);
  if (strcmp (op, "Dropout") == 0)
    return fold_identity (ctx, out, err);
  *handled = false;
  return CS_OK;
}

cs_status
cs_onnx_fold (cs_onnx_ctx *ctx, bool *handled, cs_error *err)
{
  const Onnx__NodeProto *n = ctx->node;
  cs_onnx_const out = { 0 };
  cs_status st;

  st = dispatch (ctx, n->op_type, &out, handled, err);
  if (!*handled)
    return CS_OK;
  if (st != CS_OK)
    {
      cs_onnx_const_free (&out);
      /* Messages from the const helpers do not name the node yet. Tested on the prefix, not
       * on ": node " anywhere: a tensor name may hold that text (found by libFuzzer). */
      size_t len = strlen (ctx->file);
      if (strncmp (err->message, ctx->file, len) != 0
          || strncmp (err->message + len, ": node ", 7) != 0)
        {
          char msg[CS_ERROR_MESSAGE_SIZE];
          memcpy (msg, err->message, sizeof msg);
          cs_onnx_node_error (ctx, err, st, "%s", msg);
        }
      return st;
    }
  if (n->n_output < 1 || n->output[0][0] == '\0')
    {
      cs_onnx_const_free (&out);
      return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "node has no output");
    }
  return cs_onnx_value_add_const (ctx, n->output[0], &out, false, err);
}
