/* Softmax along one axis (ONNX opset-13 semantics), numerically stable, with its backward. */
#include <math.h>

#include "graph/ops.h"

#define PAR_MIN 65536

static int32_t
softmax_axis (const cs_node *node, int32_t ndim)
{
  int32_t ax = node->attrs.axis.axis;
  return ax < 0 ? ax + ndim : ax;
}

static cs_status
softmax_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  int32_t ax = softmax_axis (node, in[0]->ndim);
  if (ax < 0 || ax >= in[0]->ndim)
    return cs_error_set (err, CS_ERR_ARGUMENT, "softmax axis %d out of range for %d dims",
                         node->attrs.axis.axis, in[0]->ndim);
  if (ax == 0)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "softmax over the batch axis");
  *out = *in[0];
  return CS_OK;
}

/* The tensor as [outer, len, inner] around the softmax axis. */
static bool
softmax_geom (const cs_op_call *call, int64_t *outer, int64_t *len, int64_t *inner)
{
  const cs_shape *s = &call->in[0]->shape;
  int32_t ax = softmax_axis (call->node, s->ndim);
  if (ax < 0 || ax >= s->ndim || cs_tensor_numel (call->out) != cs_tensor_numel (call->in[0]))
    return false;
  *outer = *inner = 1;
  for (int32_t i = 0; i < ax; i++)
    *outer *= s->dim[i];
  for (int32_t i = ax + 1; i < s->ndim; i++)
    *inner *= s->dim[i];
  *len = s->dim[ax];
  return true;
}

static cs_status
softmax_forward (const cs_op_call *call)
{
  int64_t outer, len, inner;
  if (!softmax_geom (call, &outer, &len, &inner))
    return CS_ERR_SHAPE;
  const float *x = call->in[0]->data;
  float *y = call->out->data;
#pragma omp parallel for collapse (2) if (outer * len * inner >= PAR_MIN) schedule (static)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        const float *xp = x + o * len * inner + i;
        float *yp = y + o * len * inner + i;
        /* subtracting the maximum keeps every exp in (0, 1] */
        float mx = -INFINITY;
        for (int64_t k = 0; k < len; k++)
          mx = fmaxf (mx, xp[k * inner]);
        double sum = 0.0;
        for (int64_t k = 0; k < len; k++)
          {
            float e = expf (xp[k * inner] - mx);
            yp[k * inner] = e;
            sum += e;
          }
        float inv = (float) (1.0 / sum);
        for (int64_t k = 0; k < len; k++)
          yp[k * inner] *= inv;
      }
  return CS_OK;
}

/* dx = y * (dy - sum(dy * y)) along the axis. */
static cs_status
softmax_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  int64_t outer, len, inner;
  if (!softmax_geom (call, &outer, &len, &inner))
    return CS_ERR_SHAPE;
  const float *y = call->out->data, *dy = call->dout->data;
  float *dx = call->din[0]->data;
#pragma omp parallel for collapse (2) if (outer * len * inner >= PAR_MIN) schedule (static)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        int64_t base = o * len * inner + i;
        double dot = 0.0;
        for (int64_t k = 0; k < len; k++)
          dot += (double) dy[base + k * inner] * y[base + k * inner];
        float fdot = (float) dot;
        for (int64_t k = 0; k < len; k++)
          dx[base + k * inner] += y[base + k * inner] * (dy[base + k * inner] - fdot);
      }
  return CS_OK;
}

/* max, subtract, exp, sum, scale: about five per element */
static int64_t
softmax_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  int64_t n = cs_shape_numel (out);
  return n > 0 ? 5 * n : 0;
}

const cs_op_info cs_op_softmax_info = {
  .name = "softmax",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = softmax_infer,
  .forward = softmax_forward,
  .backward = softmax_backward,
  .flops = softmax_flops,
};
