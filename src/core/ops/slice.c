/* Slice: per axis start, end (exclusive) and step, negative steps included; a strided copy. */
#include <string.h>

#include "graph/ops.h"
#include "ops/strided.h"

/* First index and count along one axis. The importer has normalised the indices (no
 * negative "from the end" values) and clamped them; they are clamped again here as ONNX
 * does, so that no attribute can reach outside the input: for step > 0 start and end lie in
 * [0, dim], for step < 0 in [-1, dim - 1] (end = -1 runs through index 0). */
static bool
slice_range (int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first, int64_t *count)
{
  if (step == 0 || step < -CS_MAX_ELEMENTS || step > CS_MAX_ELEMENTS)
    return false;
  int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
  start = start < lo ? lo : start > hi ? hi : start;
  end = end < lo ? lo : end > hi ? hi : end;
  if (step > 0)
    *count = end > start ? (end - start + step - 1) / step : 0;
  else
    *count = start > end ? (start - end - step - 1) / -step : 0;
  *first = start;
  return true;
}

static cs_status
slice_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_slice_attrs *a = &node->attrs.slice;
  *out = *in[0];
  for (int32_t d = 0; d < in[0]->ndim; d++)
    {
      int64_t first;
      if (!slice_range (in[0]->dim[d], a->start[d], a->end[d], a->step[d], &first, &out->dim[d]))
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "slice step %lld on axis %d is invalid",
                             (long long) a->step[d], d);
    }
  return CS_OK;
}

/* The box walks the output (contiguous) and the input from the first selected element with
 * strides scaled by the steps. Dim 0 of a batched node is N at run time while the attributes
 * were clamped to the graph's 1: its count is taken from the output and only checked to stay
 * inside the input. */
static cs_status
slice_box (const cs_op_call *call, const cs_tensor *outlike, cs_strided_box *box, int64_t *offset)
{
  const cs_slice_attrs *a = &call->node->attrs.slice;
  const cs_shape *s = &call->in[0]->shape;
  if (outlike->shape.ndim != s->ndim)
    return CS_ERR_SHAPE;
  int64_t in_st[CS_MAX_DIMS];
  cs_strides_contiguous (s, in_st);
  cs_strides_contiguous (&outlike->shape, box->dst);
  box->ndim = s->ndim;
  *offset = 0;
  for (int32_t d = 0; d < s->ndim; d++)
    {
      int64_t first, count, n = outlike->shape.dim[d];
      if (!slice_range (s->dim[d], a->start[d], a->end[d], a->step[d], &first, &count))
        return CS_ERR_UNSUPPORTED;
      if (d > 0 && count != n)
        return CS_ERR_SHAPE;
      if (n > 0)
        {
          int64_t last = first + (n - 1) * a->step[d];
          if (first < 0 || first >= s->dim[d] || last < 0 || last >= s->dim[d])
            return CS_ERR_SHAPE;
        }
      box->dim[d] = n;
      box->src[d] = in_st[d] * a->step[d];
      *offset += first * in_st[d];
    }
  return CS_OK;
}

static cs_status
slice_forward (const cs_op_call *call)
{
  cs_strided_box box;
  int64_t offset;
  cs_status st = slice_box (call, call->out, &box, &offset);
  if (st == CS_OK && cs_tensor_numel (call->out) > 0)
    cs_strided_copy (call->out->data, call->in[0]->data + offset, &box);
  return st;
}

static cs_status
slice_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  cs_strided_box box;
  int64_t offset;
  cs_status st = slice_box (call, call->dout, &box, &offset);
  if (st != CS_OK || cs_tensor_numel (call->dout) == 0)
    return st;
  for (int32_t d = 0; d < box.ndim; d++)
    {
      int64_t t = box.dst[d];
      box.dst[d] = box.src[d];
      box.src[d] = t;
    }
  cs_strided_accumulate (call->din[0]->data + offset, call->dout->data, &box);
  return CS_OK;
}

static int64_t
no_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

const cs_op_info cs_op_slice_info = {
  .name = "slice", .min_inputs = 1, .max_inputs = 1,
  .infer = slice_infer, .forward = slice_forward, .backward = slice_backward,
  .flops = no_flops,
};
