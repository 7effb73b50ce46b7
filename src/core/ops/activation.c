/* Element-wise activations (relu ... identity): forward, backward and the ReLU backward rules. */
#include <math.h>

#include "graph/ops.h"

/* Below this many elements an OpenMP team costs more than the loop. */
#define PAR_MIN 65536

static cs_status
unary_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  *out = *in[0];
  return CS_OK;
}

static cs_status
leaky_relu_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  if (!isfinite (node->attrs.act.alpha))
    return cs_error_set (err, CS_ERR_ARGUMENT, "leaky_relu slope %g is not finite",
                         (double) node->attrs.act.alpha);
  return unary_infer (node, in, out, err);
}

static cs_status
clip_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  /* min > max is accepted: the output is then max everywhere, as torch.clamp does. */
  if (isnan (node->attrs.act.alpha) || isnan (node->attrs.act.beta))
    return cs_error_set (err, CS_ERR_ARGUMENT, "clip bound is NaN");
  return unary_infer (node, in, out, err);
}

static cs_status
hard_sigmoid_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  if (!isfinite (node->attrs.act.alpha) || !isfinite (node->attrs.act.beta))
    return cs_error_set (err, CS_ERR_ARGUMENT, "hard_sigmoid alpha %g / beta %g not finite",
                         (double) node->attrs.act.alpha, (double) node->attrs.act.beta);
  return unary_infer (node, in, out, err);
}

/* Element-wise forward: EXPR computes y from v = x[i] (and the attributes a). */
#define UNARY_FORWARD(fn, EXPR)                                                 \
  static cs_status                                                              \
  fn (const cs_op_call *call)                                                   \
  {                                                                             \
    const cs_act_attrs a = call->node->attrs.act;                               \
    const float *x = call->in[0]->data;                                         \
    float *y = call->out->data;                                                 \
    int64_t n = cs_tensor_numel (call->out);                                    \
    if (n != cs_tensor_numel (call->in[0]))                                     \
      return CS_ERR_SHAPE;                                                      \
    (void) a;                                                                   \
    _Pragma ("omp parallel for if (n >= PAR_MIN) schedule (static)")            \
    for (int64_t i = 0; i < n; i++)                                             \
      {                                                                         \
        float v = x[i];                                                         \
        y[i] = (EXPR);                                                          \
      }                                                                         \
    return CS_OK;                                                               \
  }

/* Element-wise backward: EXPR is the gradient from v = x[i], o = y[i] and g = dy[i]. */
#define UNARY_BACKWARD(fn, EXPR)                                                \
  static cs_status                                                              \
  fn (const cs_op_call *call)                                                   \
  {                                                                             \
    if (call->din[0] == NULL)                                                   \
      return CS_OK;                                                             \
    const cs_act_attrs a = call->node->attrs.act;                               \
    const float *x = call->in[0]->data;                                         \
    const float *y = call->out->data;                                           \
    const float *dy = call->dout->data;                                         \
    float *dx = call->din[0]->data;                                             \
    int64_t n = cs_tensor_numel (call->din[0]);                                 \
    if (n != cs_tensor_numel (call->dout))                                      \
      return CS_ERR_SHAPE;                                                      \
    (void) a;                                                                   \
    _Pragma ("omp parallel for if (n >= PAR_MIN) schedule (static)")            \
    for (int64_t i = 0; i < n; i++)                                             \
      {                                                                         \
        float v = x[i], o = y[i], g = dy[i];                                    \
        (void) v;                                                               \
        (void) o;                                                               \
        dx[i] += (EXPR);                                                        \
      }                                                                         \
    return CS_OK;                                                               \
  }

#define FLOPS_PER_ELEMENT(fn, k)                                                \
  static int64_t                                                                \
  fn (const cs_node *node, const cs_shape *const *in, const cs_shape *out)     \
  {                                                                             \
    int64_t n = cs_shape_numel (out);                                           \
    return n > 0 ? (k) * n : 0;                                                 \
  }

/* relu. A NaN passes through, as in PyTorch: mapped to 0 it would hide an overflow upstream
 * (inf - inf in a convolution) from the non-finite check on the outputs. The backward honours
 * the exec's rule: the true gradient (0 at x == 0, as PyTorch), guided backprop (only positive
 * gradients through positive inputs) or deconvnet (only positive gradients, whatever the
 * input). */
UNARY_FORWARD (relu_forward, v < 0.0f ? 0.0f : v)

/* dx[i] = or += EXPR of g = dy[i], over the threads. */
#define RELU_RULE(EXPR)                                                                     \
  do                                                                                        \
    {                                                                                       \
      if (fresh)                                                                            \
        {                                                                                   \
          _Pragma ("omp parallel for simd if (parallel: n >= PAR_MIN) schedule (static)")  \
          for (int64_t i = 0; i < n; i++)                                                   \
            {                                                                               \
              float g = dy[i];                                                              \
              dx[i] = (EXPR);                                                               \
            }                                                                               \
        }                                                                                   \
      else                                                                                  \
        {                                                                                   \
          _Pragma ("omp parallel for simd if (parallel: n >= PAR_MIN) schedule (static)")  \
          for (int64_t i = 0; i < n; i++)                                                   \
            {                                                                               \
              float g = dy[i];                                                              \
              dx[i] += (EXPR);                                                              \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
  while (0)

static cs_status
relu_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  const float *x = call->in[0]->data;
  const float *dy = call->dout->data;
  float *dx = call->din[0]->data;
  int64_t n = cs_tensor_numel (call->din[0]);
  if (n != cs_tensor_numel (call->dout))
    return CS_ERR_SHAPE;
  /* dy[i] is read whatever the test says: read only when the test holds, it is a conditional
   * load, which kept these loops scalar and branchy (14 % of a training step's time). A fresh
   * dx is written, not read and added to. */
  const bool fresh = cs_din_fresh (call, 0);
  switch (call->ctx->relu_rule)
    {
    case CS_RELU_RULE_GRADIENT:
      RELU_RULE (x[i] > 0.0f ? g : 0.0f);
      break;
    case CS_RELU_RULE_GUIDED:
      RELU_RULE (x[i] > 0.0f && g > 0.0f ? g : 0.0f);
      break;
    case CS_RELU_RULE_DECONVNET:
      RELU_RULE (g > 0.0f ? g : 0.0f);
      break;
    default:
      return CS_ERR_ARGUMENT;
    }
  return CS_OK;
}

/* v clamped to [lo, hi], NaN kept (fminf/fmaxf would drop it, as relu's old 0 did). */
static inline float
clamp_keep_nan (float v, float lo, float hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* leaky_relu: slope a.alpha for x <= 0 (PyTorch's backward uses the slope at 0). */
UNARY_FORWARD (leaky_relu_forward, v > 0.0f ? v : a.alpha * v)
UNARY_BACKWARD (leaky_relu_backward, v > 0.0f ? g : a.alpha * g)

/* clip to [alpha, beta]. The gradient is 1 strictly inside and 0 at and beyond the bounds:
 * PyTorch's hardtanh backward (so ReLU6 and an exported Clip(0, 6) agree with nn.ReLU6, and
 * relu's 0 at x == 0). torch.clamp's own backward passes the gradient at the bounds; inputs
 * that sit exactly on a bound are the only place where the two differ. */
UNARY_FORWARD (clip_forward, clamp_keep_nan (v, a.alpha, a.beta))
UNARY_BACKWARD (clip_backward, v > a.alpha && v < a.beta ? g : 0.0f)

UNARY_FORWARD (sigmoid_forward, 1.0f / (1.0f + expf (-v)))
UNARY_BACKWARD (sigmoid_backward, g * o * (1.0f - o))

/* hard_sigmoid: max(0, min(1, alpha*x + beta)); gradient alpha strictly inside (0, 1), as
 * PyTorch's hardsigmoid backward (zero at the kinks). */
UNARY_FORWARD (hard_sigmoid_forward, clamp_keep_nan (a.alpha * v + a.beta, 0.0f, 1.0f))
UNARY_BACKWARD (hard_sigmoid_backward,
                a.alpha * v + a.beta > 0.0f && a.alpha * v + a.beta < 1.0f ? a.alpha * g : 0.0f)

/* hard_swish: x * relu6(x + 3) / 6. Backward as PyTorch's hardswish_backward: 0 below -3,
 * x/3 + 1/2 on [-3, 3] (both ends included), 1 above 3. */
UNARY_FORWARD (hard_swish_forward, v * fminf (6.0f, fmaxf (0.0f, v + 3.0f)) / 6.0f)
UNARY_BACKWARD (hard_swish_backward,
                v < -3.0f ? 0.0f : v <= 3.0f ? g * (v / 3.0f + 0.5f) : g)

UNARY_FORWARD (tanh_forward, tanhf (v))
UNARY_BACKWARD (tanh_backward, g * (1.0f - o * o))

/* d/dx erf(x) = 2/sqrt(pi) exp(-x^2) */
UNARY_FORWARD (erf_forward, erff (v))
UNARY_BACKWARD (erf_backward, g * 1.12837916709551257f * expf (-v * v))

/* sqrt: negative inputs give NaN and 0 gives an infinite gradient, as in PyTorch. */
UNARY_FORWARD (sqrt_forward, sqrtf (v))
UNARY_BACKWARD (sqrt_backward, g * 0.5f / o)

UNARY_FORWARD (exp_forward, expf (v))
UNARY_BACKWARD (exp_backward, g * o)

UNARY_FORWARD (neg_forward, -v)
UNARY_BACKWARD (neg_backward, -g)

UNARY_FORWARD (identity_forward, v)
UNARY_BACKWARD (identity_backward, g)

/* FLOPs per element: a rough count of the arithmetic (a transcendental counts as a few). */
FLOPS_PER_ELEMENT (flops_1, 1)
FLOPS_PER_ELEMENT (flops_2, 2)
FLOPS_PER_ELEMENT (flops_3, 3)
FLOPS_PER_ELEMENT (flops_4, 4)
FLOPS_PER_ELEMENT (flops_5, 5)

static int64_t
flops_0 (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

#define UNARY_INFO(id, str, inf, fl)                                            \
  const cs_op_info cs_op_##id##_info = {                                        \
    .name = str, .min_inputs = 1, .max_inputs = 1, .infer = inf,                \
    .forward = id##_forward, .backward = id##_backward, .flops = fl,            \
  };

const cs_op_info cs_op_relu_info = {
  .name = "relu", .min_inputs = 1, .max_inputs = 1, .infer = unary_infer,
  .forward = relu_forward, .backward = relu_backward, .flops = flops_1, .fresh_din = true,
};
UNARY_INFO (leaky_relu, "leaky_relu", leaky_relu_infer, flops_2)
UNARY_INFO (clip, "clip", clip_infer, flops_2)
UNARY_INFO (sigmoid, "sigmoid", unary_infer, flops_4)
UNARY_INFO (hard_sigmoid, "hard_sigmoid", hard_sigmoid_infer, flops_4)
UNARY_INFO (hard_swish, "hard_swish", unary_infer, flops_5)
UNARY_INFO (tanh, "tanh", unary_infer, flops_4)
UNARY_INFO (erf, "erf", unary_infer, flops_4)
UNARY_INFO (sqrt, "sqrt", unary_infer, flops_1)
UNARY_INFO (exp, "exp", unary_infer, flops_3)
UNARY_INFO (neg, "neg", unary_infer, flops_1)
UNARY_INFO (identity, "identity", unary_infer, flops_0)
