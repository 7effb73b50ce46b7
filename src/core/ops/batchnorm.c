/* Batch normalisation over channel dim 1 of [N, C, ...]: inference with running statistics,
 * training with batch statistics (saved in aux for the trainer's running-stat update). */
#include <math.h>
#include <string.h>

#include "base/simd_clones.h"
#include "graph/ops.h"

#define PAR_MIN 65536

enum { BN_X, BN_SCALE, BN_BIAS, BN_MEAN, BN_VAR };

static cs_status
batchnorm_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  static const char *const names[] = { "x", "scale", "bias", "running_mean", "running_var" };
  const cs_norm_attrs *a = &node->attrs.norm;
  char buf[128];
  if (in[BN_X]->ndim < 2)
    return cs_error_set (err, CS_ERR_SHAPE, "batchnorm2d needs [N, C] or [N, C, H, W], got %s",
                         cs_shape_format (in[BN_X], buf, sizeof buf));
  int64_t c = in[BN_X]->dim[1];
  for (int i = BN_SCALE; i <= BN_VAR; i++)
    if (cs_shape_numel (in[i]) != c || in[i]->ndim != 1)
      return cs_error_set (err, CS_ERR_SHAPE, "batchnorm2d %s has shape %s, expected [%lld]",
                           names[i], cs_shape_format (in[i], buf, sizeof buf), (long long) c);
  if (!(a->eps >= 0.0f) || !isfinite (a->eps) || !isfinite (a->momentum))
    return cs_error_set (err, CS_ERR_ARGUMENT, "batchnorm2d eps %g / momentum %g invalid",
                         (double) a->eps, (double) a->momentum);
  *out = *in[BN_X];
  return CS_OK;
}

/* Batch statistics: mean[C] then biased variance[C], whatever the mode (the trainer reads
 * them through cs_exec_aux after a training forward). */
static int64_t
batchnorm_aux_size (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n)
{
  return 2 * in[BN_X]->dim[1];
}

typedef struct {
  int64_t n, c, s; /* batch, channels, spatial elements per channel and sample */
} bn_geom;

static bool
bn_geom_get (const cs_op_call *call, bn_geom *g)
{
  const cs_shape *x = &call->in[BN_X]->shape;
  if (x->ndim < 2 || x->dim[0] < 1 || x->dim[1] < 1)
    return false;
  g->n = x->dim[0];
  g->c = x->dim[1];
  int64_t numel = cs_tensor_numel (call->in[BN_X]);
  if (numel <= 0)
    return false;
  g->s = numel / (g->n * g->c);
  for (int i = BN_SCALE; i <= BN_VAR; i++)
    if (cs_tensor_numel (call->in[i]) != g->c)
      return false;
  return call->aux != NULL && cs_tensor_numel (call->aux) >= 2 * g->c;
}

/* One channel of the forward: the batch statistics (training: two passes in double, so that
 * the variance of activations with a large mean stays exact; the sums run in SIMD lanes, a
 * fixed order for a given build, since one serial double accumulator made them
 * latency-bound, 11 % of a training step), then y = x * k_mul + k_add. */
CS_SIMD_CLONES static void
bn_forward_channel (const bn_geom *g, int64_t c, const float *x, float *y, bool training,
                    double eps, float scale, float bias, double *mean_io, double *var_io)
{
  double mean = *mean_io, var = *var_io;
  if (training)
    {
      const double m = (double) (g->n * g->s);
      double acc = 0.0;
      for (int64_t n = 0; n < g->n; n++)
        {
          const float *xp = x + (n * g->c + c) * g->s;
#pragma omp simd reduction (+ : acc)
          for (int64_t k = 0; k < g->s; k++)
            acc += xp[k];
        }
      mean = acc / m;
      acc = 0.0;
      for (int64_t n = 0; n < g->n; n++)
        {
          const float *xp = x + (n * g->c + c) * g->s;
#pragma omp simd reduction (+ : acc)
          for (int64_t k = 0; k < g->s; k++)
            acc += ((double) xp[k] - mean) * ((double) xp[k] - mean);
        }
      var = acc / m;
    }
  double inv = 1.0 / sqrt (var + eps);
  float k_mul = (float) (scale * inv);
  float k_add = (float) (bias - mean * scale * inv);
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xp = x + (n * g->c + c) * g->s;
      float *yp = y + (n * g->c + c) * g->s;
#pragma omp simd
      for (int64_t k = 0; k < g->s; k++)
        yp[k] = xp[k] * k_mul + k_add;
    }
  *mean_io = mean;
  *var_io = var;
}

static cs_status
batchnorm_forward (const cs_op_call *call)
{
  bn_geom g;
  if (!bn_geom_get (call, &g) || cs_tensor_numel (call->out) != g.n * g.c * g.s)
    return CS_ERR_SHAPE;
  const float *x = call->in[BN_X]->data;
  const float *scale = call->in[BN_SCALE]->data, *bias = call->in[BN_BIAS]->data;
  const float *rmean = call->in[BN_MEAN]->data, *rvar = call->in[BN_VAR]->data;
  float *y = call->out->data;
  float *saved = call->aux->data;
  double eps = call->node->attrs.norm.eps;
  bool training = call->ctx->training;
#pragma omp parallel for if (g.n * g.c * g.s >= PAR_MIN) schedule (static)
  for (int64_t c = 0; c < g.c; c++)
    {
      double mean = training ? 0.0 : rmean[c], var = training ? 0.0 : rvar[c];
      bn_forward_channel (&g, c, x, y, training, eps, scale[c], bias[c], &mean, &var);
      if (training)
        {
          saved[c] = (float) mean;
          saved[g.c + c] = (float) var;
        }
    }
  return CS_OK;
}

/* One channel of the backward: the sums of dy and dy * xhat (into the scale and bias
 * gradients), then dx. */
CS_SIMD_CLONES static void
bn_backward_channel (const bn_geom *g, int64_t c, const float *x, const float *dy, float *dx,
                     const bool fresh[3], bool sums, bool training, double mean, double inv,
                     float scale, float *dscale, float *dbias)
{
  const double m = (double) (g->n * g->s);
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
  if (sums)
    for (int64_t n = 0; n < g->n; n++)
      {
        const float *xp = x + (n * g->c + c) * g->s, *dyp = dy + (n * g->c + c) * g->s;
#pragma omp simd reduction (+ : sum_dy, sum_dy_xhat)
        for (int64_t k = 0; k < g->s; k++)
          {
            sum_dy += dyp[k];
            sum_dy_xhat += dyp[k] * ((double) xp[k] - mean) * inv;
          }
      }
  if (dbias != NULL)
    *dbias = (fresh[BN_BIAS] ? 0.0f : *dbias) + (float) sum_dy;
  if (dscale != NULL)
    *dscale = (fresh[BN_SCALE] ? 0.0f : *dscale) + (float) sum_dy_xhat;
  if (dx == NULL)
    return;
  float k_dy = (float) (scale * inv);
  if (!training)
    {
      for (int64_t n = 0; n < g->n; n++)
        {
          const float *dyp = dy + (n * g->c + c) * g->s;
          float *dxp = dx + (n * g->c + c) * g->s;
          if (fresh[BN_X])
#pragma omp simd
            for (int64_t k = 0; k < g->s; k++)
              dxp[k] = dyp[k] * k_dy;
          else
#pragma omp simd
            for (int64_t k = 0; k < g->s; k++)
              dxp[k] += dyp[k] * k_dy;
        }
      return;
    }
  float mean_dy = (float) (sum_dy / m);
  float k_xhat = (float) (sum_dy_xhat / m * inv);
  float fmean = (float) mean;
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xp = x + (n * g->c + c) * g->s, *dyp = dy + (n * g->c + c) * g->s;
      float *dxp = dx + (n * g->c + c) * g->s;
      if (fresh[BN_X])
#pragma omp simd
        for (int64_t k = 0; k < g->s; k++)
          dxp[k] = k_dy * (dyp[k] - mean_dy - (xp[k] - fmean) * k_xhat);
      else
#pragma omp simd
        for (int64_t k = 0; k < g->s; k++)
          dxp[k] += k_dy * (dyp[k] - mean_dy - (xp[k] - fmean) * k_xhat);
    }
}

/* Inference: the statistics are constants, so dx = dy * scale / std. Training: the gradient
 * also flows through the batch mean and variance,
 *   dx = scale / std * (dy - mean(dy) - xhat * mean(dy * xhat)).
 * Running statistics never get a gradient. */
static cs_status
batchnorm_backward (const cs_op_call *call)
{
  bn_geom g;
  if (!bn_geom_get (call, &g) || cs_tensor_numel (call->dout) != g.n * g.c * g.s)
    return CS_ERR_SHAPE;
  float *dx = call->din[BN_X] != NULL ? call->din[BN_X]->data : NULL;
  float *dscale = call->din[BN_SCALE] != NULL ? call->din[BN_SCALE]->data : NULL;
  float *dbias = call->din[BN_BIAS] != NULL ? call->din[BN_BIAS]->data : NULL;
  /* Running statistics get no gradient: a fresh buffer for them is written as zeros. */
  for (int i = BN_MEAN; i <= BN_VAR; i++)
    if (call->din[i] != NULL && cs_din_fresh (call, i))
      memset (call->din[i]->data, 0, (size_t) cs_tensor_numel (call->din[i]) * sizeof (float));
  if (dx == NULL && dscale == NULL && dbias == NULL)
    return CS_OK;
  const float *x = call->in[BN_X]->data, *dy = call->dout->data;
  const float *scale = call->in[BN_SCALE]->data;
  bool training = call->ctx->training;
  const float *stats_mean = training ? call->aux->data : call->in[BN_MEAN]->data;
  const float *stats_var = training ? call->aux->data + g.c : call->in[BN_VAR]->data;
  double eps = call->node->attrs.norm.eps;
  bool sums = dscale != NULL || dbias != NULL || training;
  const bool fresh[3] = { cs_din_fresh (call, BN_X), cs_din_fresh (call, BN_SCALE),
                          cs_din_fresh (call, BN_BIAS) };
#pragma omp parallel for if (g.n * g.c * g.s >= PAR_MIN) schedule (static)
  for (int64_t c = 0; c < g.c; c++)
    bn_backward_channel (&g, c, x, dy, dx, fresh, sums, training, stats_mean[c],
                         1.0 / sqrt ((double) stats_var[c] + eps), scale[c],
                         dscale != NULL ? &dscale[c] : NULL, dbias != NULL ? &dbias[c] : NULL);
  return CS_OK;
}

/* At inference batch norm folds to one multiply-add per element. */
static int64_t
batchnorm_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  int64_t n = cs_shape_numel (out);
  return n > 0 ? 2 * n : 0;
}

const cs_op_info cs_op_batchnorm_info = {
  .name = "batchnorm2d",
  .min_inputs = 5,
  .max_inputs = 5,
  .infer = batchnorm_infer,
  .forward = batchnorm_forward,
  .backward = batchnorm_backward,
  .aux_size = batchnorm_aux_size,
  .flops = batchnorm_flops,
  .fresh_din = true,
};
