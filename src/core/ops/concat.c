/* Concat along one non-batch axis of any number of inputs (densenet joins ~50): per input,
 * one memcpy per outer index. */
#include <string.h>

#include "graph/ops.h"
#include "ops/strided.h"

static cs_status
concat_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  int32_t axis = node->attrs.axis.axis, r = in[0]->ndim, n = node->n_inputs;
  char b0[96], bi[96];
  if (n < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "concat needs at least one input");
  if (axis < 1 || axis >= r)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "concat axis %d is outside [1, %d] (axis 0 "
                         "would join batches)", axis, r - 1);
  *out = *in[0];
  for (int32_t i = 1; i < n; i++)
    {
      bool ok = in[i]->ndim == r;
      for (int32_t d = 0; ok && d < r; d++)
        ok = d == axis || in[i]->dim[d] == in[0]->dim[d];
      if (!ok)
        return cs_error_set (err, CS_ERR_SHAPE, "concat input %d has shape %s, which does not "
                             "fit input 0 %s outside axis %d", i,
                             cs_shape_format (in[i], bi, sizeof bi),
                             cs_shape_format (in[0], b0, sizeof b0), axis);
      /* a crafted file's sizes can be anything: the sum is bounded before it is taken */
      int64_t add = in[i]->dim[axis];
      if (add < 0 || out->dim[axis] < 0 || out->dim[axis] > CS_MAX_ELEMENTS - add)
        return cs_error_set (err, CS_ERR_LIMIT, "concat input %d's %lld along axis %d makes the "
                             "output larger than %lld elements", i, (long long) add, axis,
                             (long long) CS_MAX_ELEMENTS);
      out->dim[axis] += add;
    }
  if (cs_shape_numel (out) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "the output %s is larger than %lld elements",
                         cs_shape_format (out, b0, sizeof b0), (long long) CS_MAX_ELEMENTS);
  return CS_OK;
}

/* Checks the run-time shapes and returns the outer count and the output's row length. */
static cs_status
concat_layout (const cs_op_call *call, const cs_shape *o, int64_t *outer, int64_t *row)
{
  int32_t axis = call->node->attrs.axis.axis, r = o->ndim;
  if (axis < 1 || axis >= r)
    return CS_ERR_UNSUPPORTED;
  int64_t total = 0;
  for (int32_t i = 0; i < call->n_inputs; i++)
    {
      const cs_shape *s = &call->in[i]->shape;
      if (s->ndim != r)
        return CS_ERR_SHAPE;
      for (int32_t d = 0; d < r; d++)
        if (d != axis && s->dim[d] != o->dim[d])
          return CS_ERR_SHAPE;
      if (s->dim[axis] < 0 || total > CS_MAX_ELEMENTS - s->dim[axis])
        return CS_ERR_SHAPE;
      total += s->dim[axis];
    }
  if (total != o->dim[axis])
    return CS_ERR_SHAPE;
  *outer = 1;
  *row = 1;
  for (int32_t d = 0; d < r; d++)
    {
      if (d < axis)
        *outer *= o->dim[d];
      else
        *row *= o->dim[d];
    }
  return CS_OK;
}

static int64_t
chunk_of (const cs_tensor *t, int32_t axis)
{
  int64_t c = 1;
  for (int32_t d = axis; d < t->shape.ndim; d++)
    c *= t->shape.dim[d];
  return c;
}

static cs_status
concat_forward (const cs_op_call *call)
{
  int64_t outer, row;
  cs_status st = concat_layout (call, &call->out->shape, &outer, &row);
  if (st != CS_OK)
    return st;
  int32_t axis = call->node->attrs.axis.axis;
  int64_t at = 0;
  for (int32_t i = 0; i < call->n_inputs; i++)
    {
      int64_t chunk = chunk_of (call->in[i], axis);
      const float *src = call->in[i]->data;
      float *dst = call->out->data + at;
      if (chunk > 0)
        for (int64_t o = 0; o < outer; o++)
          memcpy (dst + o * row, src + o * chunk, (size_t) chunk * sizeof (float));
      at += chunk;
    }
  return CS_OK;
}

static cs_status
concat_backward (const cs_op_call *call)
{
  int64_t outer, row;
  cs_status st = concat_layout (call, &call->dout->shape, &outer, &row);
  if (st != CS_OK)
    return st;
  int32_t axis = call->node->attrs.axis.axis;
  int64_t at = 0;
  for (int32_t i = 0; i < call->n_inputs; i++)
    {
      int64_t chunk = chunk_of (call->in[i], axis);
      cs_tensor *g = call->din[i];
      if (g != NULL && chunk > 0)
        for (int64_t o = 0; o < outer; o++)
          cs_floats_accumulate (g->data + o * chunk, call->dout->data + at + o * row, chunk);
      at += chunk;
    }
  return CS_OK;
}

static int64_t
no_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

const cs_op_info cs_op_concat_info = {
  .name = "concat", .min_inputs = 1, .max_inputs = -1,
  .infer = concat_infer, .forward = concat_forward, .backward = concat_backward,
  .flops = no_flops,
};
