/* ONNX -> graph conversion of the layout operators (Flatten, Reshape, Transpose, Squeeze,
 * Unsqueeze, Slice, Concat, Pad). Dim 0 of a batched value is the batch: anything that would
 * move data across samples is rejected here, with the node named. */
#include <string.h>

#include "io/onnx/onnx_private.h"

static bool
input_batched (cs_onnx_ctx *ctx, int32_t k)
{
  const cs_onnx_value *v = cs_onnx_value_find (ctx, ctx->node->input[k]);

  return v != NULL && v->kind == CS_ONNX_VALUE_NODE && ctx->g->nodes[v->node].batched;
}

static cs_status
emit_reshape (cs_onnx_ctx *ctx, const cs_shape *target, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_RESHAPE);
  int32_t x = cs_onnx_input_node (ctx, 0, err);

  if (x < 0)
    return err->code;
  a.reshape.shape = *target;
  return cs_onnx_emit (ctx, CS_OP_RESHAPE, NULL, &x, 1, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_flatten (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_FLATTEN);
  cs_shape x, t;
  int32_t axis, id;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", 1), x.ndim + 1);
  if (axis < 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis");
  if (axis == 0 && input_batched (ctx, 0))
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Flatten with axis 0 would move "
                               "data across samples of the batch");
  if (axis == 1)
    {
      a.axis.axis = 1;
      if ((id = cs_onnx_input_node (ctx, 0, err)) < 0)
        return err->code;
      return cs_onnx_emit (ctx, CS_OP_FLATTEN, NULL, &id, 1, &a, true, err) < 0 ? err->code : CS_OK;
    }
  /* axis > 1 keeps dim 0 the batch only when the dims folded into it are all 1. */
  for (int32_t k = 1; k < axis; k++)
    if (x.dim[k] != 1)
      return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Flatten with axis %d would fold "
                                 "dim %d into the batch", axis, k);
  t.ndim = 2;
  t.dim[0] = x.ndim > 0 ? x.dim[0] : 1;
  t.dim[1] = 1;
  for (int32_t k = axis; k < x.ndim; k++)
    t.dim[1] = cs_onnx_mul_sat (t.dim[1], x.dim[k]);
  if (t.dim[1] > CS_MAX_ELEMENTS)
    return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "Flatten into more than %lld features",
                               (long long) CS_MAX_ELEMENTS);
  return emit_reshape (ctx, &t, err);
}

static cs_status
convert_reshape (cs_onnx_ctx *ctx, cs_error *err)
{
  const cs_onnx_const *c;
  cs_shape x, t;
  int64_t per = 1, known = 1;
  int32_t n, neg = -1;
  bool batched = input_batched (ctx, 0), allowzero = cs_onnx_attr_int (ctx, "allowzero", 0) != 0;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  if ((c = cs_onnx_input_const (ctx, 1, err)) == NULL)
    return err->code;
  if (c->ndim != 1 || c->numel < 1 || c->numel > CS_MAX_DIMS)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "target shape must be a list of 1 "
                               "to %d dims", CS_MAX_DIMS);
  n = (int32_t) c->numel;
  for (int32_t k = 0; k < x.ndim; k++)
    per *= x.dim[k];
  t.ndim = n;
  for (int32_t k = 0; k < n; k++)
    {
      int64_t d = cs_onnx_const_get_int (c, k);
      if (d == 0 && !allowzero)
        {
          if (k >= x.ndim)
            return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "0 in target shape beyond the "
                                       "input's rank");
          d = x.dim[k];
        }
      if (d == -1)
        {
          if (neg >= 0)
            return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "more than one -1 in target shape");
          neg = k;
        }
      else if (d < 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "invalid dim %lld in target shape",
                                   (long long) d);
      t.dim[k] = d;
    }
  if (batched)
    {
      /* dim 0 must resolve to the batch: -1 with the rest one sample, 0 (copied), 1, or the
       * batch the model declared (exports with a fixed batch). */
      int64_t d0 = cs_onnx_const_get_int (c, 0);
      if (!(d0 == -1 || (d0 == 0 && !allowzero) || d0 == 1 || d0 == ctx->input_batch))
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Reshape to dim 0 = %lld would "
                                   "move data across samples of the batch", (long long) d0);
      if (neg == 0)
        {
          for (int32_t k = 1; k < n; k++)
            known = cs_onnx_mul_sat (known, t.dim[k]);
          if (known != per)
            return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Reshape would move data "
                                       "across samples of the batch (a sample has %lld "
                                       "elements, the target's rest %lld)", (long long) per,
                                       (long long) known);
        }
      t.dim[0] = 1;
    }
  known = 1;
  for (int32_t k = 0; k < n; k++)
    if (k != neg)
      known = cs_onnx_mul_sat (known, t.dim[k]);
  if (neg >= 0)
    {
      if (known == 0 || per % known != 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "cannot infer -1 in target shape");
      t.dim[neg] = per / known;
    }
  if (cs_shape_numel (&t) != per)
    {
      char a[96], b[96];
      return cs_onnx_node_error (ctx, err, batched ? CS_ERR_UNSUPPORTED : CS_ERR_SHAPE,
                                 "cannot reshape %s into %s%s", cs_shape_format (&x, a, sizeof a),
                                 cs_shape_format (&t, b, sizeof b),
                                 batched ? " per sample (would move data across samples)" : "");
    }
  return emit_reshape (ctx, &t, err);
}

static cs_status
convert_transpose (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_TRANSPOSE);
  int64_t perm[CS_MAX_DIMS];
  bool seen[CS_MAX_DIMS] = { false };
  cs_shape x;
  int32_t n, id;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  n = cs_onnx_attr_ints (ctx, "perm", perm, CS_MAX_DIMS);
  if (n < 0)
    for (n = 0; n < x.ndim; n++)
      perm[n] = x.ndim - 1 - n;
  if (n != x.ndim)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "perm has %d entries for rank %d", n,
                               x.ndim);
  for (int32_t k = 0; k < n; k++)
    {
      if (perm[k] < 0 || perm[k] >= n || seen[perm[k]])
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid perm");
      seen[perm[k]] = true;
      a.axes.axes[k] = (int32_t) perm[k];
    }
  a.axes.count = n;
  if (perm[0] != 0 && input_batched (ctx, 0))
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Transpose moving dim 0 (the "
                               "batch) is not supported");
  if ((id = cs_onnx_input_node (ctx, 0, err)) < 0)
    return err->code;
  return cs_onnx_emit (ctx, CS_OP_TRANSPOSE, NULL, &id, 1, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_squeeze (cs_onnx_ctx *ctx, cs_error *err)
{
  bool unsqueeze = ctx->node->op_type[0] == 'U';
  int64_t axes[CS_MAX_DIMS + 1];
  bool mark[CS_MAX_DIMS] = { false };
  cs_shape x, t;
  int32_t n = 0, rank;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  if (ctx->opset >= 13)
    {
      if (cs_onnx_has_input (ctx, 1))
        {
          const cs_onnx_const *c = cs_onnx_input_const (ctx, 1, err);
          if (c == NULL)
            return err->code;
          if (c->numel > CS_MAX_DIMS)
            return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "too many axes");
          n = (int32_t) c->numel;
          for (int32_t k = 0; k < n; k++)
            axes[k] = cs_onnx_const_get_int (c, k);
        }
    }
  else
    {
      n = cs_onnx_attr_ints (ctx, "axes", axes, CS_MAX_DIMS + 1);
      if (n == -2)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "too many axes");
      if (n < 0)
        n = 0;
    }
  rank = unsqueeze ? x.ndim + n : x.ndim;
  if (rank > CS_MAX_DIMS)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "result of rank %d (at most %d)",
                               rank, CS_MAX_DIMS);
  if (unsqueeze && n == 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "Unsqueeze without axes");
  for (int32_t k = 0; k < n; k++)
    {
      int32_t ax = cs_onnx_axis (axes[k], rank);
      if (ax < 0 || mark[ax])
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis %lld", (long long) axes[k]);
      if (ax == 0 && input_batched (ctx, 0))
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "%s on axis 0 (the batch) is "
                                   "not supported", ctx->node->op_type);
      if (!unsqueeze && x.dim[ax] != 1)
        return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "cannot squeeze axis %d of size %lld",
                                   ax, (long long) x.dim[ax]);
      mark[ax] = true;
    }
  t.ndim = 0;
  if (unsqueeze)
    for (int32_t k = 0, j = 0; k < rank; k++)
      t.dim[t.ndim++] = mark[k] ? 1 : x.dim[j++];
  else
    for (int32_t k = 0; k < x.ndim; k++)
      {
        /* Without axes every size-1 dim goes, except the batch. */
        bool drop = n > 0 ? mark[k] : (x.dim[k] == 1 && !(k == 0 && input_batched (ctx, 0)));
        if (!drop)
          t.dim[t.ndim++] = x.dim[k];
      }
  return emit_reshape (ctx, &t, err);
}

static cs_status
convert_slice (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_SLICE);
  int64_t starts[CS_MAX_DIMS + 1], ends[CS_MAX_DIMS + 1], axes[CS_MAX_DIMS + 1],
    steps[CS_MAX_DIMS + 1];
  bool seen[CS_MAX_DIMS] = { false };
  cs_shape x;
  int32_t n, na = -1, ns = -1, id;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  if (ctx->opset < 10)
    {
      n = cs_onnx_attr_ints (ctx, "starts", starts, CS_MAX_DIMS + 1);
      if (n < 0 || cs_onnx_attr_ints (ctx, "ends", ends, CS_MAX_DIMS + 1) != n)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "starts and ends must have the same "
                                   "length");
      na = cs_onnx_attr_ints (ctx, "axes", axes, CS_MAX_DIMS + 1);
    }
  else
    {
      const cs_onnx_const *c[5] = { NULL };
      int64_t *dst[5] = { NULL, starts, ends, axes, steps };
      int32_t cnt[5] = { 0 };
      for (int32_t k = 1; k <= 4; k++)
        {
          if (!cs_onnx_has_input (ctx, k))
            {
              cnt[k] = -1;
              continue;
            }
          if ((c[k] = cs_onnx_input_const (ctx, k, err)) == NULL)
            return err->code;
          if (c[k]->ndim > 1 || c[k]->numel > CS_MAX_DIMS + 1)
            return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "input %d must be a short list", k);
          cnt[k] = (int32_t) c[k]->numel;
          for (int32_t j = 0; j < cnt[k]; j++)
            dst[k][j] = cs_onnx_const_get_int (c[k], j);
        }
      n = cnt[1];
      if (n < 0 || cnt[2] != n)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "starts and ends must have the same "
                                   "length");
      na = cnt[3];
      ns = cnt[4];
    }
  if ((na >= 0 && na != n) || (ns >= 0 && ns != n))
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "axes/steps length differs from starts");
  for (int32_t k = 0; k < x.ndim; k++)
    {
      a.slice.start[k] = 0;
      a.slice.end[k] = x.dim[k];
      a.slice.step[k] = 1;
    }
  for (int32_t j = 0; j < n; j++)
    {
      int32_t ax = cs_onnx_axis (na >= 0 ? axes[j] : j, x.ndim);
      int64_t s = starts[j], e = ends[j], p = ns >= 0 ? steps[j] : 1, d;
      if (ax < 0 || seen[ax] || p == 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis or zero step");
      seen[ax] = true;
      if (ax == 0 && input_batched (ctx, 0))
        {
          /* The whole batch only: start 0, step 1, end at least the declared batch. */
          if (s != 0 || p != 1 || (e >= 0 && e < ctx->input_batch))
            return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Slice on axis 0 (the "
                                       "batch) is not supported");
          continue;
        }
      d = x.dim[ax];
      if (s < 0) s += d;
      if (e < 0) e += d;
      if (p > 0)
        {
          s = s < 0 ? 0 : s > d ? d : s;
          e = e < 0 ? 0 : e > d ? d : e;
        }
      else
        {
          s = s < 0 ? -1 : s > d - 1 ? d - 1 : s;
          e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
        }
      a.slice.start[ax] = s;
      a.slice.end[ax] = e;
      a.slice.step[ax] = p;
    }
  if ((id = cs_onnx_input_node (ctx, 0, err)) < 0)
    return err->code;
  return cs_onnx_emit (ctx, CS_OP_SLICE, NULL, &id, 1, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_concat (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_CONCAT);
  int32_t in[64], n = (int32_t) ctx->node->n_input, axis;
  cs_shape x;

  if (n < 1 || n > 64)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Concat of %d inputs (1 to 64)", n);
  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", 1), x.ndim);
  if (axis < 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis");
  if (axis == 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Concat on axis 0 (the batch) is not "
                               "supported");
  a.axis.axis = axis;
  for (int32_t k = 0; k < n; k++)
    if ((in[k] = cs_onnx_input_node (ctx, k, err)) < 0)
      return err->code;
  return cs_onnx_emit (ctx, CS_OP_CONCAT, NULL, in, n, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_pad (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_PAD);
  int64_t pads[2 * CS_MAX_DIMS + 1];
  char buf[32];
  const char *mode = cs_onnx_attr_string (ctx, "mode", "constant", buf, sizeof buf);
  cs_shape x;
  int32_t n, id;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  if (strcmp (mode, "constant") == 0)
    a.pad.mode = CS_PAD_CONSTANT;
  else if (strcmp (mode, "reflect") == 0)
    a.pad.mode = CS_PAD_REFLECT;
  else if (strcmp (mode, "edge") == 0)
    a.pad.mode = CS_PAD_EDGE;
  else
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "unsupported Pad mode '%s'", mode);
  a.pad.value = 0;
  if (ctx->opset < 11)
    {
      n = cs_onnx_attr_ints (ctx, "pads", pads, 2 * CS_MAX_DIMS + 1);
      a.pad.value = cs_onnx_attr_float (ctx, "value", 0.0f);
    }
  else
    {
      const cs_onnx_const *c = cs_onnx_input_const (ctx, 1, err);
      if (c == NULL)
        return err->code;
      if (c->numel > 2 * CS_MAX_DIMS)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "too many pads");
      n = (int32_t) c->numel;
      for (int32_t k = 0; k < n; k++)
        pads[k] = cs_onnx_const_get_int (c, k);
      if (cs_onnx_has_input (ctx, 2))
        {
          const cs_onnx_const *v = cs_onnx_input_const (ctx, 2, err);
          if (v == NULL)
            return err->code;
          if (v->numel >= 1)
            a.pad.value = (float) cs_onnx_const_get (v, 0);
        }
      if (cs_onnx_has_input (ctx, 3))
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Pad with axes is not supported");
    }
  if (n != 2 * x.ndim)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "pads has %d values for rank %d", n,
                               x.ndim);
  for (int32_t k = 0; k < x.ndim; k++)
    {
      int64_t b = pads[k], e = pads[k + x.ndim];
      if (b < 0 || e < 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "negative pads (cropping) are "
                                   "not supported");
      if (b > 65536 || e > 65536)
        return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "pads beyond 65536");
      if (k == 0 && (b || e) && input_batched (ctx, 0))
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Pad on axis 0 (the batch) is "
                                   "not supported");
      a.pad.before[k] = b;
      a.pad.after[k] = e;
    }
  if ((id = cs_onnx_input_node (ctx, 0, err)) < 0)
    return err->code;
  return cs_onnx_emit (ctx, CS_OP_PAD, NULL, &id, 1, &a, true, err) < 0 ? err->code : CS_OK;
}

cs_onnx_convert_fn
cs_onnx_layout_converter (const char *op)
{
  static const struct { const char *name; cs_onnx_convert_fn fn; } table[] = {
    { "Flatten", convert_flatten }, { "Reshape", convert_reshape },
    { "Transpose", convert_transpose }, { "Squeeze", convert_squeeze },
    { "Unsqueeze", convert_squeeze }, { "Slice", convert_slice }, { "Concat", convert_concat },
    { "Pad", convert_pad } };

  for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
    if (strcmp (op, table[k].name) == 0)
      return table[k].fn;
  return NULL;
}
