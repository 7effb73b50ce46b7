/* Mean reductions: global average pooling ([N, C, spatial...] -> [N, C, 1...]) and reduce_mean
 * over attribute axes (never the batch axis). */
#include <stdbool.h>
#include <string.h>

#include "graph/ops.h"

#define PAR_MIN 65536

/* global_avgpool: the mean of each [N, C] plane over every spatial dim. */

static cs_status
global_avgpool_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  char buf[128];
  if (in[0]->ndim < 3)
    return cs_error_set (err, CS_ERR_SHAPE, "global_avgpool needs [N, C, H, W], got %s",
                         cs_shape_format (in[0], buf, sizeof buf));
  *out = *in[0];
  for (int32_t i = 2; i < out->ndim; i++)
    {
      if (in[0]->dim[i] < 1)
        return cs_error_set (err, CS_ERR_SHAPE, "global_avgpool over an empty input %s",
                             cs_shape_format (in[0], buf, sizeof buf));
      out->dim[i] = 1;
    }
  return CS_OK;
}

static cs_status
global_avgpool_forward (const cs_op_call *call)
{
  const cs_shape *s = &call->in[0]->shape;
  int64_t planes = s->dim[0] * s->dim[1];
  int64_t numel = cs_tensor_numel (call->in[0]);
  if (planes <= 0 || cs_tensor_numel (call->out) != planes)
    return CS_ERR_SHAPE;
  int64_t size = numel / planes;
  const float *x = call->in[0]->data;
  float *y = call->out->data;
#pragma omp parallel for if (numel >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < planes; p++)
    {
      double acc = 0.0;
      const float *xp = x + p * size;
      for (int64_t k = 0; k < size; k++)
        acc += xp[k];
      y[p] = (float) (acc / (double) size);
    }
  return CS_OK;
}

static cs_status
global_avgpool_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  const cs_shape *s = &call->in[0]->shape;
  int64_t planes = s->dim[0] * s->dim[1];
  int64_t numel = cs_tensor_numel (call->in[0]);
  if (planes <= 0 || cs_tensor_numel (call->dout) != planes)
    return CS_ERR_SHAPE;
  int64_t size = numel / planes;
  const float *dy = call->dout->data;
  float *dx = call->din[0]->data;
#pragma omp parallel for if (numel >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < planes; p++)
    {
      float d = dy[p] / (float) size;
      float *dxp = dx + p * size;
      for (int64_t k = 0; k < size; k++)
        dxp[k] += d;
    }
  return CS_OK;
}

static int64_t
reduce_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  int64_t n = cs_shape_numel (in[0]);
  return n > 0 ? n : 0;
}

const cs_op_info cs_op_global_avgpool_info = {
  .name = "global_avgpool",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = global_avgpool_infer,
  .forward = global_avgpool_forward,
  .backward = global_avgpool_backward,
  .flops = reduce_flops,
};

/* reduce_mean. Axes may be negative (counted from the end); the batch axis is never reduced,
 * since samples must stay apart. */

static cs_status
reduce_axes (const cs_axes_attrs *a, int32_t ndim, bool reduced[CS_MAX_DIMS], cs_error *err)
{
  memset (reduced, 0, CS_MAX_DIMS * sizeof (bool));
  if (a->count < 1 || a->count > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "reduce_mean with %d axes (need 1 to %d)",
                         a->count, ndim - 1);
  for (int32_t i = 0; i < a->count; i++)
    {
      int32_t ax = a->axes[i] < 0 ? a->axes[i] + ndim : a->axes[i];
      if (ax < 0 || ax >= ndim)
        return cs_error_set (err, CS_ERR_ARGUMENT, "reduce_mean axis %d out of range for %d dims",
                             a->axes[i], ndim);
      if (ax == 0)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "reduce_mean over the batch axis");
      if (reduced[ax])
        return cs_error_set (err, CS_ERR_ARGUMENT, "reduce_mean axis %d given twice", a->axes[i]);
      reduced[ax] = true;
    }
  return CS_OK;
}

static cs_status
reduce_mean_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_axes_attrs *a = &node->attrs.axes;
  bool reduced[CS_MAX_DIMS];
  cs_status st = reduce_axes (a, in[0]->ndim, reduced, err);
  if (st != CS_OK)
    return st;
  cs_shape o = { 0 };
  for (int32_t i = 0; i < in[0]->ndim; i++)
    {
      if (reduced[i] && in[0]->dim[i] < 1)
        return cs_error_set (err, CS_ERR_SHAPE, "reduce_mean over an empty axis %d", i);
      if (!reduced[i])
        o.dim[o.ndim++] = in[0]->dim[i];
      else if (a->keepdims)
        o.dim[o.ndim++] = 1;
    }
  *out = o;
  return CS_OK;
}

/* The input seen as [outer, inner] when the reduced axes are one trailing block (the usual
 * spatial mean); false for other layouts, which take the general path. */
static bool
reduce_trailing (const cs_shape *s, const bool *reduced, int64_t *outer, int64_t *inner)
{
  int32_t first = s->ndim;
  while (first > 0 && reduced[first - 1])
    first--;
  for (int32_t i = 0; i < first; i++)
    if (reduced[i])
      return false;
  *outer = 1;
  *inner = 1;
  for (int32_t i = 0; i < s->ndim; i++)
    *(i < first ? outer : inner) *= s->dim[i];
  return true;
}

/* The general path walks the input in order with an odometer, tracking the output offset:
 * out_stride is the output stride of each input axis, 0 for reduced axes. */
static void
reduce_strides (const cs_shape *s, const bool *reduced, int64_t *out_stride)
{
  int64_t st = 1;
  for (int32_t i = s->ndim - 1; i >= 0; i--)
    {
      out_stride[i] = reduced[i] ? 0 : st;
      if (!reduced[i])
        st *= s->dim[i];
    }
}

static cs_status
reduce_mean_forward (const cs_op_call *call)
{
  const cs_shape *s = &call->in[0]->shape;
  bool reduced[CS_MAX_DIMS];
  if (reduce_axes (&call->node->attrs.axes, s->ndim, reduced, NULL) != CS_OK)
    return CS_ERR_ARGUMENT;
  int64_t numel = cs_tensor_numel (call->in[0]);
  int64_t n_out = cs_tensor_numel (call->out);
  if (n_out <= 0 || numel % n_out != 0)
    return CS_ERR_SHAPE;
  int64_t count = numel / n_out;
  const float *x = call->in[0]->data;
  float *y = call->out->data;
  int64_t outer, inner;
  if (reduce_trailing (s, reduced, &outer, &inner))
    {
      if (outer != n_out)
        return CS_ERR_SHAPE;
#pragma omp parallel for if (numel >= PAR_MIN) schedule (static)
      for (int64_t o = 0; o < outer; o++)
        {
          double acc = 0.0;
          for (int64_t k = 0; k < inner; k++)
            acc += x[o * inner + k];
          y[o] = (float) (acc / (double) inner);
        }
      return CS_OK;
    }
  int64_t out_stride[CS_MAX_DIMS], idx[CS_MAX_DIMS] = { 0 };
  reduce_strides (s, reduced, out_stride);
  memset (y, 0, (size_t) n_out * sizeof (float));
  int64_t off = 0;
  for (int64_t k = 0; k < numel; k++)
    {
      y[off] += x[k];
      for (int32_t d = s->ndim - 1; d >= 0; d--)
        {
          off += out_stride[d];
          if (++idx[d] < s->dim[d])
            break;
          off -= out_stride[d] * s->dim[d];
          idx[d] = 0;
        }
    }
  float inv = 1.0f / (float) count;
  for (int64_t k = 0; k < n_out; k++)
    y[k] *= inv;
  return CS_OK;
}

static cs_status
reduce_mean_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  const cs_shape *s = &call->in[0]->shape;
  bool reduced[CS_MAX_DIMS];
  if (reduce_axes (&call->node->attrs.axes, s->ndim, reduced, NULL) != CS_OK)
    return CS_ERR_ARGUMENT;
  int64_t numel = cs_tensor_numel (call->in[0]);
  int64_t n_out = cs_tensor_numel (call->dout);
  if (n_out <= 0 || numel % n_out != 0)
    return CS_ERR_SHAPE;
  float inv = 1.0f / (float) (numel / n_out);
  const float *dy = call->dout->data;
  float *dx = call->din[0]->data;
  int64_t outer, inner;
  if (reduce_trailing (s, reduced, &outer, &inner))
    {
      if (outer != n_out)
        return CS_ERR_SHAPE;
#pragma omp parallel for if (numel >= PAR_MIN) schedule (static)
      for (int64_t o = 0; o < outer; o++)
        {
          float d = dy[o] * inv;
          for (int64_t k = 0; k < inner; k++)
            dx[o * inner + k] += d;
        }
      return CS_OK;
    }
  int64_t out_stride[CS_MAX_DIMS], idx[CS_MAX_DIMS] = { 0 };
  reduce_strides (s, reduced, out_stride);
  int64_t off = 0;
  for (int64_t k = 0; k < numel; k++)
    {
      dx[k] += dy[off] * inv;
      for (int32_t d = s->ndim - 1; d >= 0; d--)
        {
          off += out_stride[d];
          if (++idx[d] < s->dim[d])
            break;
          off -= out_stride[d] * s->dim[d];
          idx[d] = 0;
        }
    }
  return CS_OK;
}

const cs_op_info cs_op_reduce_mean_info = {
  .name = "reduce_mean",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = reduce_mean_infer,
  .forward = reduce_mean_forward,
  .backward = reduce_mean_backward,
  .flops = reduce_flops,
};
