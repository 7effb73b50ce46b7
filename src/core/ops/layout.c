/* Layout ops that only re-index: flatten, reshape (both a plain copy of the data) and
 * transpose (a strided copy). Slice, concat and pad have their own files. */
#include <string.h>

#include "graph/ops.h"
#include "ops/strided.h"

static int64_t
no_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

/* ---- flatten and reshape: same data, new shape ---- */

static cs_status
same_data_forward (const cs_op_call *call)
{
  int64_t n = cs_tensor_numel (call->in[0]);
  if (n != cs_tensor_numel (call->out))
    return CS_ERR_SHAPE;
  if (n > 0 && call->out->data != call->in[0]->data)
    memcpy (call->out->data, call->in[0]->data, (size_t) n * sizeof (float));
  return CS_OK;
}

static cs_status
same_data_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  int64_t n = cs_tensor_numel (call->din[0]);
  if (n != cs_tensor_numel (call->dout))
    return CS_ERR_SHAPE;
  cs_floats_accumulate (call->din[0]->data, call->dout->data, n);
  return CS_OK;
}

static cs_status
flatten_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  int32_t axis = node->attrs.axis.axis, r = in[0]->ndim;
  if (axis < 1 || axis > r)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "flatten axis %d is outside [1, %d] (axis 0 "
                         "would merge the batch into the features)", axis, r);
  /* Bounded products: an empty input (a zero dim) may carry absurd other dims, whose product
   * must neither overflow nor become a shape. */
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < r; d++)
    {
      int64_t *p = d < axis ? &outer : &inner;
      if (__builtin_mul_overflow (*p, in[0]->dim[d], p) || *p > CS_MAX_ELEMENTS)
        return cs_error_set (err, CS_ERR_LIMIT, "flatten of more than %lld elements per side",
                             (long long) CS_MAX_ELEMENTS);
    }
  memset (out, 0, sizeof *out);
  out->ndim = 2;
  out->dim[0] = outer;
  out->dim[1] = inner;
  return CS_OK;
}

const cs_op_info cs_op_flatten_info = {
  .name = "flatten", .min_inputs = 1, .max_inputs = 1,
  .infer = flatten_infer, .forward = same_data_forward, .backward = same_data_backward,
  .flops = no_flops,
};

/* The target shape was resolved at load with dim 0 = 1 for batched nodes. infer sees the
 * graph's shapes (equal element counts), or run-time shapes with dim 0 = N (as the gradient
 * checks do): then dim 0 of the target scales with the input's. */
static cs_status
reshape_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_shape *t = &node->attrs.reshape.shape;
  char bi[96], bt[96];
  if (t->ndim < 1 || t->ndim > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_SHAPE, "reshape target has %d dims", t->ndim);
  int64_t n_in = cs_shape_numel (in[0]), n_t = cs_shape_numel (t);
  if (n_t < 0)
    return cs_error_set (err, CS_ERR_SHAPE, "invalid reshape target %s",
                         cs_shape_format (t, bt, sizeof bt));
  *out = *t;
  if (n_in == n_t)
    return CS_OK;
  if (in[0]->ndim >= 1 && t->dim[0] == 1 && in[0]->dim[0] > 1 && n_t > 0
      && n_in == n_t * in[0]->dim[0])
    {
      out->dim[0] = in[0]->dim[0];
      return CS_OK;
    }
  return cs_error_set (err, CS_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s (%lld elements)",
                       cs_shape_format (in[0], bi, sizeof bi), (long long) n_in,
                       cs_shape_format (t, bt, sizeof bt), (long long) n_t);
}

const cs_op_info cs_op_reshape_info = {
  .name = "reshape", .min_inputs = 1, .max_inputs = 1,
  .infer = reshape_infer, .forward = same_data_forward, .backward = same_data_backward,
  .flops = no_flops,
};

/* ---- transpose: out dim d is input dim perm[d] ---- */

static bool
perm_valid (const cs_axes_attrs *a, int32_t rank)
{
  bool seen[CS_MAX_DIMS] = { false };
  if (a->count != rank)
    return false;
  for (int32_t d = 0; d < rank; d++)
    {
      if (a->axes[d] < 0 || a->axes[d] >= rank || seen[a->axes[d]])
        return false;
      seen[a->axes[d]] = true;
    }
  return true;
}

static cs_status
transpose_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_axes_attrs *a = &node->attrs.axes;
  int32_t r = in[0]->ndim;
  if (!perm_valid (a, r))
    return cs_error_set (err, CS_ERR_SHAPE, "transpose permutation of %d axes is not a "
                         "permutation of the input's %d dims", a->count, r);
  if (node->batched && a->axes[0] != 0)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "transpose moves the batch dim (perm[0] = %d)",
                         a->axes[0]);
  memset (out, 0, sizeof *out);
  out->ndim = r;
  for (int32_t d = 0; d < r; d++)
    out->dim[d] = in[0]->dim[a->axes[d]];
  return CS_OK;
}

/* The box walks the output contiguously and the input through the permuted strides. */
static cs_status
transpose_box (const cs_op_call *call, const cs_tensor *outlike, cs_strided_box *box)
{
  const cs_axes_attrs *a = &call->node->attrs.axes;
  const cs_shape *s = &call->in[0]->shape;
  if (!perm_valid (a, s->ndim) || outlike->shape.ndim != s->ndim)
    return CS_ERR_SHAPE;
  int64_t in_st[CS_MAX_DIMS];
  cs_strides_contiguous (s, in_st);
  cs_strides_contiguous (&outlike->shape, box->dst);
  box->ndim = s->ndim;
  for (int32_t d = 0; d < s->ndim; d++)
    {
      if (outlike->shape.dim[d] != s->dim[a->axes[d]])
        return CS_ERR_SHAPE;
      box->dim[d] = s->dim[a->axes[d]];
      box->src[d] = in_st[a->axes[d]];
    }
  return CS_OK;
}

static cs_status
transpose_forward (const cs_op_call *call)
{
  cs_strided_box box;
  cs_status st = transpose_box (call, call->out, &box);
  if (st == CS_OK)
    cs_strided_copy (call->out->data, call->in[0]->data, &box);
  return st;
}

static cs_status
transpose_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  cs_strided_box box;
  cs_status st = transpose_box (call, call->dout, &box);
  if (st != CS_OK)
    return st;
  /* the same walk with the roles swapped: din (permuted) += dout (contiguous) */
  for (int32_t d = 0; d < box.ndim; d++)
    {
      int64_t t = box.dst[d];
      box.dst[d] = box.src[d];
      box.src[d] = t;
    }
  cs_strided_accumulate (call->din[0]->data, call->dout->data, &box);
  return CS_OK;
}

const cs_op_info cs_op_transpose_info = {
  .name = "transpose", .min_inputs = 1, .max_inputs = 1,
  .infer = transpose_infer, .forward = transpose_forward, .backward = transpose_backward,
  .flops = no_flops,
};
