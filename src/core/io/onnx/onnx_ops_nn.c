/* ONNX -> graph conversion of the compute operators: convolution, pooling, Gemm/MatMul,
 * activations, element-wise arithmetic, batch norm, dropout and softmax. */
#include <math.h>
#include <string.h>

#include "graph/ops.h"
#include "io/onnx/onnx_private.h"

/* Output 0 of the current node becomes an alias of graph node id (Identity, Cast to float). */
static cs_status
alias (cs_onnx_ctx *ctx, int32_t id, cs_error *err)
{
  if (ctx->node->n_output < 1 || ctx->node->output[0][0] == '\0')
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "node has no output");
  return cs_onnx_value_add_node (ctx, ctx->node->output[0], id, err);
}

/* Rejects extra outputs (MaxPool indices, BatchNormalization statistics). */
static cs_status
single_output (cs_onnx_ctx *ctx, const char *what, cs_error *err)
{
  for (size_t k = 1; k < ctx->node->n_output; k++)
    if (ctx->node->output[k][0] != '\0')
      return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "output %zu (%s) is not supported",
                                 k, what);
  return CS_OK;
}

static cs_status
emit_simple (cs_onnx_ctx *ctx, cs_op op, int32_t n_inputs, const cs_attrs *attrs, cs_error *err)
{
  int32_t in[CS_OP_MAX_INPUTS];
  cs_attrs a = attrs ? *attrs : cs_attrs_default (op);

  for (int32_t k = 0; k < n_inputs; k++)
    if ((in[k] = cs_onnx_input_node (ctx, k, err)) < 0)
      return err->code;
  return cs_onnx_emit (ctx, op, NULL, in, n_inputs, &a, true, err) < 0 ? err->code : CS_OK;
}

/* Spatial attributes shared by Conv and the pools, auto_pad resolved from the input shape. */
static cs_status
window_attrs (cs_onnx_ctx *ctx, const cs_shape *x, const int64_t *kernel_default, bool pool,
              cs_window_attrs *w, cs_error *err)
{
  int64_t v[8];
  char buf[32];
  const char *auto_pad;
  int32_t n;

  if (x->ndim != 4)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "only 2-D spatial inputs (rank 4) "
                               "are supported, input has rank %d", x->ndim);
  n = cs_onnx_attr_ints (ctx, "kernel_shape", v, 8);
  if (n < 0 && kernel_default != NULL)
    {
      v[0] = kernel_default[0];
      v[1] = kernel_default[1];
      n = 2;
    }
  if (n != 2)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "kernel_shape must have 2 values");
  w->kernel[0] = (int32_t) v[0];
  w->kernel[1] = (int32_t) v[1];
  n = cs_onnx_attr_ints (ctx, "strides", v, 8);
  if (n >= 0 && n != 2)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "strides must have 2 values");
  w->stride[0] = n == 2 ? (int32_t) v[0] : 1;
  w->stride[1] = n == 2 ? (int32_t) v[1] : 1;
  n = cs_onnx_attr_ints (ctx, "dilations", v, 8);
  if (n >= 0 && n != 2)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "dilations must have 2 values");
  w->dilation[0] = n == 2 ? (int32_t) v[0] : 1;
  w->dilation[1] = n == 2 ? (int32_t) v[1] : 1;
  n = cs_onnx_attr_ints (ctx, "pads", v, 8);
  if (n >= 0 && n != 4)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "pads must have 4 values");
  for (int32_t k = 0; k < 4; k++)
    w->pad[k] = n == 4 ? (int32_t) v[k] : 0;
  for (int32_t k = 0; k < 2; k++)
    if (w->kernel[k] < 1 || w->stride[k] < 1 || w->dilation[k] < 1 || w->kernel[k] > 65536
        || w->stride[k] > 65536 || w->dilation[k] > 65536)
      return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid kernel, stride or dilation");
  for (int32_t k = 0; k < 4; k++)
    if (w->pad[k] < 0 || w->pad[k] > 65536)
      return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "pads must be in [0, 65536]");

  auto_pad = cs_onnx_attr_string (ctx, "auto_pad", "NOTSET", buf, sizeof buf);
  if (strcmp (auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
    return CS_OK;
  if (strcmp (auto_pad, "VALID") == 0)
    {
      memset (w->pad, 0, sizeof w->pad);
      return CS_OK;
    }
  if (strcmp (auto_pad, "SAME_UPPER") != 0 && strcmp (auto_pad, "SAME_LOWER") != 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "unsupported auto_pad %s", auto_pad);
  if (pool && cs_onnx_attr_int (ctx, "ceil_mode", 0))
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "auto_pad %s with ceil_mode",
                               auto_pad);
  /* SAME: output = ceil(in / stride); the odd pixel goes at the end (UPPER) or start (LOWER). */
  for (int32_t k = 0; k < 2; k++)
    {
      int64_t in = x->dim[2 + k], s = w->stride[k];
      int64_t out = (in + s - 1) / s;
      int64_t eff = (int64_t) (w->kernel[k] - 1) * w->dilation[k] + 1;
      int64_t total = (out - 1) * s + eff - in;
      int64_t small, big;
      if (total < 0)
        total = 0;
      small = total / 2;
      big = total - small;
      if (auto_pad[5] == 'U')
        {
          w->pad[k] = (int32_t) small;
          w->pad[k + 2] = (int32_t) big;
        }
      else
        {
          w->pad[k] = (int32_t) big;
          w->pad[k + 2] = (int32_t) small;
        }
    }
  return CS_OK;
}

static cs_status
convert_conv (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_CONV2D);
  cs_shape x, w;
  int64_t kernel[2];
  int32_t in[3], n = cs_onnx_has_input (ctx, 2) ? 3 : 2;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK || cs_onnx_input_shape (ctx, 1, &w, err) != CS_OK)
    return err->code;
  if (w.ndim != 4)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "only 2-D convolution is supported "
                               "(weight of rank %d)", w.ndim);
  kernel[0] = w.dim[2];
  kernel[1] = w.dim[3];
  if (window_attrs (ctx, &x, kernel, false, &a.window, err) != CS_OK)
    return err->code;
  if (a.window.kernel[0] != w.dim[2] || a.window.kernel[1] != w.dim[3])
    return cs_onnx_node_error (ctx, err, CS_ERR_SHAPE, "kernel_shape differs from the weight");
  {
    int64_t g = cs_onnx_attr_int (ctx, "group", 1);
    if (g < 1 || g > x.dim[1])
      return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid group %lld", (long long) g);
    a.window.groups = (int32_t) g;
  }
  for (int32_t k = 0; k < n; k++)
    if ((in[k] = cs_onnx_input_node (ctx, k, err)) < 0)
      return err->code;
  return cs_onnx_emit (ctx, CS_OP_CONV2D, NULL, in, n, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_pool (cs_onnx_ctx *ctx, cs_error *err)
{
  bool max = strcmp (ctx->node->op_type, "MaxPool") == 0;
  cs_op op = max ? CS_OP_MAXPOOL : CS_OP_AVGPOOL;
  cs_attrs a = cs_attrs_default (op);
  cs_shape x;

  if (single_output (ctx, "Indices", err) != CS_OK)
    return err->code;
  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  if (window_attrs (ctx, &x, NULL, true, &a.window, err) != CS_OK)
    return err->code;
  if (!max && (a.window.dilation[0] != 1 || a.window.dilation[1] != 1))
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "AveragePool with dilations");
  a.window.ceil_mode = cs_onnx_attr_int (ctx, "ceil_mode", 0) != 0;
  a.window.count_include_pad = !max && cs_onnx_attr_int (ctx, "count_include_pad", 0) != 0;
  return emit_simple (ctx, op, 1, &a, err);
}

static cs_status
convert_global_pool (cs_onnx_ctx *ctx, cs_error *err)
{
  return emit_simple (ctx, CS_OP_GLOBAL_AVGPOOL, 1, NULL, err);
}

static cs_status
convert_reduce_mean (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_REDUCE_MEAN);
  int64_t axes[CS_MAX_DIMS + 1];
  bool mark[CS_MAX_DIMS] = { false };
  cs_shape x;
  int32_t n;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  /* axes: attribute until opset 17 (ReduceMean moves it to an input in 18). */
  n = cs_onnx_attr_ints (ctx, "axes", axes, CS_MAX_DIMS + 1);
  if (n == -2)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "too many axes");
  if (n <= 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "ReduceMean over all axes would "
                               "mix the batch");
  for (int32_t k = 0; k < n; k++)
    {
      int32_t ax = cs_onnx_axis (axes[k], x.ndim);
      if (ax < 0 || mark[ax])
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis %lld", (long long) axes[k]);
      if (ax == 0)
        return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "ReduceMean over axis 0 (the "
                                   "batch) is not supported");
      mark[ax] = true;
    }
  a.axes.count = 0;
  for (int32_t k = 0; k < x.ndim; k++)
    if (mark[k])
      a.axes.axes[a.axes.count++] = k;
  a.axes.keepdims = cs_onnx_attr_int (ctx, "keepdims", 1) != 0;
  return emit_simple (ctx, CS_OP_REDUCE_MEAN, 1, &a, err);
}

static cs_status
convert_gemm (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_GEMM);

  if (cs_onnx_attr_int (ctx, "transA", 0) != 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "transA=1 is not supported (A must "
                               "be the batched input)");
  a.gemm.trans_b = cs_onnx_attr_int (ctx, "transB", 0) != 0;
  a.gemm.alpha = cs_onnx_attr_float (ctx, "alpha", 1.0f);
  a.gemm.beta = cs_onnx_attr_float (ctx, "beta", 1.0f);
  return emit_simple (ctx, CS_OP_GEMM, cs_onnx_has_input (ctx, 2) ? 3 : 2, &a, err);
}

static cs_status
convert_matmul (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_onnx_value *b = cs_onnx_input (ctx, 1, err);

  if (b == NULL)
    return err->code;
  if (b->kind == CS_ONNX_VALUE_NODE && ctx->g->nodes[b->node].batched)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "MatMul of two activations is not "
                               "supported (B must be a weight)");
  return emit_simple (ctx, CS_OP_MATMUL, 2, NULL, err);
}

static cs_status
convert_unary (cs_onnx_ctx *ctx, cs_error *err)
{
  static const struct { const char *name; cs_op op; } ops[] = {
    { "Relu", CS_OP_RELU }, { "Sigmoid", CS_OP_SIGMOID }, { "Tanh", CS_OP_TANH },
    { "Erf", CS_OP_ERF }, { "Sqrt", CS_OP_SQRT }, { "Exp", CS_OP_EXP }, { "Neg", CS_OP_NEG },
    { "HardSwish", CS_OP_HARD_SWISH } };
  cs_attrs a;

  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (strcmp (ctx->node->op_type, ops[k].name) == 0)
      return emit_simple (ctx, ops[k].op, 1, NULL, err);
  if (strcmp (ctx->node->op_type, "LeakyRelu") == 0)
    {
      a = cs_attrs_default (CS_OP_LEAKY_RELU);
      a.act.alpha = cs_onnx_attr_float (ctx, "alpha", 0.01f);
      return emit_simple (ctx, CS_OP_LEAKY_RELU, 1, &a, err);
    }
  /* HardSigmoid */
  a = cs_attrs_default (CS_OP_HARD_SIGMOID);
  a.act.alpha = cs_onnx_attr_float (ctx, "alpha", 0.2f);
  a.act.beta = cs_onnx_attr_float (ctx, "beta", 0.5f);
  return emit_simple (ctx, CS_OP_HARD_SIGMOID, 1, &a, err);
}

static cs_status
convert_clip (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_CLIP);

  a.act.alpha = -INFINITY;
  a.act.beta = INFINITY;
  if (ctx->opset < 11)
    {
      a.act.alpha = cs_onnx_attr_float (ctx, "min", -INFINITY);
      a.act.beta = cs_onnx_attr_float (ctx, "max", INFINITY);
    }
  else
    for (int32_t k = 1; k <= 2; k++)
      {
        const cs_onnx_const *c;
        if (!cs_onnx_has_input (ctx, k))
          continue;
        if ((c = cs_onnx_input_const (ctx, k, err)) == NULL)
          return err->code;
        if (c->numel != 1)
          return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Clip bound must be a scalar");
        if (k == 1)
          a.act.alpha = (float) cs_onnx_const_get (c, 0);
        else
          a.act.beta = (float) cs_onnx_const_get (c, 0);
      }
  return emit_simple (ctx, CS_OP_CLIP, 1, &a, err);
}

static cs_status
convert_binary (cs_onnx_ctx *ctx, cs_error *err)
{
  static const struct { const char *name; cs_op op; } ops[] = {
    { "Add", CS_OP_ADD }, { "Sub", CS_OP_SUB }, { "Mul", CS_OP_MUL }, { "Div", CS_OP_DIV },
    { "Pow", CS_OP_POW } };

  if (ctx->opset < 7 && cs_onnx_attr_int (ctx, "broadcast", 0) != 0 && cs_onnx_attr (ctx, "axis"))
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "legacy broadcast with axis");
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (strcmp (ctx->node->op_type, ops[k].name) == 0)
      return emit_simple (ctx, ops[k].op, 2, NULL, err);
  return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "unsupported operator");
}

static cs_status
convert_batchnorm (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_BATCHNORM);

  if (single_output (ctx, "training statistics", err) != CS_OK)
    return err->code;
  if (cs_onnx_attr_int (ctx, "training_mode", 0) != 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "training_mode=1 is not supported");
  if (ctx->opset < 9 && cs_onnx_attr_int (ctx, "spatial", 1) == 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "spatial=0 is not supported");
  a.norm.eps = cs_onnx_attr_float (ctx, "epsilon", 1e-5f);
  /* ONNX: running = m * running + (1 - m) * batch; ours is PyTorch's (1 - m). */
  a.norm.momentum = 1.0f - cs_onnx_attr_float (ctx, "momentum", 0.9f);
  return emit_simple (ctx, CS_OP_BATCHNORM, 5, &a, err);
}

static cs_status
convert_dropout (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_DROPOUT);
  int32_t x;

  a.dropout.p = 0.5f;
  if (ctx->opset < 12)
    a.dropout.p = cs_onnx_attr_float (ctx, "ratio", 0.5f);
  else if (cs_onnx_has_input (ctx, 1))
    {
      const cs_onnx_const *c = cs_onnx_input_const (ctx, 1, err);
      if (c == NULL)
        return err->code;
      if (c->numel != 1)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "ratio must be a scalar");
      a.dropout.p = (float) cs_onnx_const_get (c, 0);
    }
  if (!(a.dropout.p >= 0 && a.dropout.p < 1))
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "ratio %g out of [0, 1)", a.dropout.p);
  /* The mask output is left unbound: a consumer of it fails with "not produced". */
  if ((x = cs_onnx_input_node (ctx, 0, err)) < 0)
    return err->code;
  return cs_onnx_emit (ctx, CS_OP_DROPOUT, NULL, &x, 1, &a, true, err) < 0 ? err->code : CS_OK;
}

static cs_status
convert_softmax (cs_onnx_ctx *ctx, cs_error *err)
{
  cs_attrs a = cs_attrs_default (CS_OP_SOFTMAX);
  cs_shape x;
  int32_t axis, id;

  if (cs_onnx_input_shape (ctx, 0, &x, err) != CS_OK)
    return err->code;
  axis = cs_onnx_axis (cs_onnx_attr_int (ctx, "axis", ctx->opset < 13 ? 1 : -1), x.ndim);
  if (axis < 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "invalid axis");
  if (axis == 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Softmax over axis 0 (the batch) "
                               "is not supported");
  a.axis.axis = axis;
  if (ctx->opset >= 13 || axis == x.ndim - 1)
    return emit_simple (ctx, CS_OP_SOFTMAX, 1, &a, err);

  /* Before opset 13 the input is coerced to 2-D at axis: softmax over all trailing dims, done
   * as reshape -> softmax on the last axis -> reshape back. */
  {
    cs_attrs r = cs_attrs_default (CS_OP_RESHAPE), back = cs_attrs_default (CS_OP_RESHAPE);
    int64_t inner = 1;
    if ((id = cs_onnx_input_node (ctx, 0, err)) < 0)
      return err->code;
    /* Saturating: an empty tensor (a zero dim first) may carry absurd later dims. */
    for (int32_t k = axis; k < x.ndim; k++)
      inner = cs_onnx_mul_sat (inner, x.dim[k]);
    if (inner > CS_MAX_ELEMENTS)
      return cs_onnx_node_error (ctx, err, CS_ERR_LIMIT, "Softmax over more than %lld elements",
                                 (long long) CS_MAX_ELEMENTS);
    r.reshape.shape = x;
    r.reshape.shape.ndim = axis + 1;
    r.reshape.shape.dim[axis] = inner;
    id = cs_onnx_emit (ctx, CS_OP_RESHAPE, "/coerce2d", &id, 1, &r, false, err);
    if (id < 0)
      return err->code;
    id = cs_onnx_emit (ctx, CS_OP_SOFTMAX, "/softmax", &id, 1, &a, false, err);
    if (id < 0)
      return err->code;
    back.reshape.shape = x;
    return cs_onnx_emit (ctx, CS_OP_RESHAPE, NULL, &id, 1, &back, true, err) < 0 ? err->code : CS_OK;
  }
}

static cs_status
convert_identity (cs_onnx_ctx *ctx, cs_error *err)
{
  int32_t x = cs_onnx_input_node (ctx, 0, err);

  return x < 0 ? err->code : alias (ctx, x, err);
}

static cs_status
convert_cast (cs_onnx_ctx *ctx, cs_error *err)
{
  int64_t to = cs_onnx_attr_int (ctx, "to", 0);

  if (to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && to != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "Cast of an activation to type %lld "
                               "(activations are float)", (long long) to);
  return convert_identity (ctx, err);
}

cs_onnx_convert_fn
cs_onnx_nn_converter (const char *op)
{
  static const struct { const char *name; cs_onnx_convert_fn fn; } table[] = {
    { "Conv", convert_conv }, { "MaxPool", convert_pool }, { "AveragePool", convert_pool },
    { "GlobalAveragePool", convert_global_pool }, { "ReduceMean", convert_reduce_mean },
    { "Gemm", convert_gemm }, { "MatMul", convert_matmul },
    { "Relu", convert_unary }, { "LeakyRelu", convert_unary }, { "Sigmoid", convert_unary },
    { "HardSigmoid", convert_unary }, { "HardSwish", convert_unary }, { "Tanh", convert_unary },
    { "Erf", convert_unary }, { "Sqrt", convert_unary }, { "Exp", convert_unary },
    { "Neg", convert_unary }, { "Clip", convert_clip },
    { "Add", convert_binary }, { "Sub", convert_binary }, { "Mul", convert_binary },
    { "Div", convert_binary }, { "Pow", convert_binary },
    { "BatchNormalization", convert_batchnorm }, { "Dropout", convert_dropout },
    { "Softmax", convert_softmax }, { "Identity", convert_identity }, { "Cast", convert_cast } };

  for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
    if (strcmp (op, table[k].name) == 0)
      return table[k].fn;
  return NULL;
}
