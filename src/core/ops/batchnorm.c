/* Batch normalisation over channel dim 1 of [N, C, ...]: inference with running statistics,
 * training with batch statistics (saved in aux for the trainer's running-stat update). */
#include <math.h>
#include <string.h>

#include "base/batch_group.h"
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

/* The batch statistics of one channel, in two passes in double so that the variance of
 * activations with a large mean stays exact: the sum of x, then the sum of squared deviations
 * from the mean. The sums run in SIMD lanes, a fixed order for a given build, since one serial
 * double accumulator made them latency-bound (11 % of a training step). */
CS_SIMD_CLONES static double
bn_channel_sum (const bn_geom *g, int64_t c, const float *x)
{
  double acc = 0.0;
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xp = x + (n * g->c + c) * g->s;
#pragma omp simd reduction (+ : acc)
      for (int64_t k = 0; k < g->s; k++)
        acc += xp[k];
    }
  return acc;
}

CS_SIMD_CLONES static double
bn_channel_squares (const bn_geom *g, int64_t c, const float *x, double mean)
{
  double acc = 0.0;
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xp = x + (n * g->c + c) * g->s;
#pragma omp simd reduction (+ : acc)
      for (int64_t k = 0; k < g->s; k++)
        acc += ((double) xp[k] - mean) * ((double) xp[k] - mean);
    }
  return acc;
}

/* y = x * k_mul + k_add over one channel. */
CS_SIMD_CLONES static void
bn_channel_apply (const bn_geom *g, int64_t c, const float *x, float *y, double mean, double var,
                  double eps, float scale, float bias)
{
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
}

/* Training on one slice of a batch (cs_op_context.group): the sums of every channel go
 * through the group twice, so that each slice normalises with the whole batch's statistics. */
static cs_status
batchnorm_forward_grouped (const cs_op_call *call, const bn_geom *g)
{
  cs_batch_group *grp = call->ctx->group;
  const int32_t me = call->ctx->group_member;
  const float *x = call->in[BN_X]->data;
  double *part = cs_batch_group_part (grp, me);
  for (int64_t c = 0; c < g->c; c++)
    part[c] = bn_channel_sum (g, c, x);
  part[g->c] = (double) (g->n * g->s);
  const double *sum = cs_batch_group_sum (grp, me, g->c + 1);
  if (sum == NULL)
    return CS_ERR_CANCELLED;
  const double m = sum[g->c];
  part = cs_batch_group_part (grp, me);
  for (int64_t c = 0; c < g->c; c++)
    part[c] = bn_channel_squares (g, c, x, sum[c] / m);
  const double *squares = cs_batch_group_sum (grp, me, g->c);
  if (squares == NULL)
    return CS_ERR_CANCELLED;
  const float *scale = call->in[BN_SCALE]->data, *bias = call->in[BN_BIAS]->data;
  float *saved = call->aux->data;
  for (int64_t c = 0; c < g->c; c++)
    {
      double mean = sum[c] / m, var = squares[c] / m;
      bn_channel_apply (g, c, x, call->out->data, mean, var, call->node->attrs.norm.eps, scale[c], bias[c]);
      saved[c] = (float) mean;
      saved[g->c + c] = (float) var;
    }
  return CS_OK;
}

static cs_status
batchnorm_forward (const cs_op_call *call)
{
  bn_geom g;
  if (!bn_geom_get (call, &g) || cs_tensor_numel (call->out) != g.n * g.c * g.s)
    return CS_ERR_SHAPE;
  bool training = call->ctx->training;
  if (training && call->ctx->group != NULL)
    return batchnorm_forward_grouped (call, &g);
  const float *x = call->in[BN_X]->data;
  const float *scale = call->in[BN_SCALE]->data, *bias = call->in[BN_BIAS]->data;
  const float *rmean = call->in[BN_MEAN]->data, *rvar = call->in[BN_VAR]->data;
  float *y = call->out->data;
  float *saved = call->aux->data;
  double eps = call->node->attrs.norm.eps;
  const double m = (double) (g.n * g.s);
#pragma omp parallel for if (g.n * g.c * g.s >= PAR_MIN) schedule (static)
  for (int64_t c = 0; c < g.c; c++)
    {
      double mean = rmean[c], var = rvar[c];
      if (training)
        {
          mean = bn_channel_sum (&g, c, x) / m;
          var = bn_channel_squares (&g, c, x, mean) / m;
          saved[c] = (float) mean;
          saved[g.c + c] = (float) var;
        }
      bn_channel_apply (&g, c, x, y, mean, var, eps, scale[c], bias[c]);
    }
  return CS_OK;
}

/* 1 / std of channel c from the statistics the forward used (float, as saved or running). */
static double
inv_std (const float *var, int64_t c, double eps)
{
  return 1.0 / sqrt ((double) var[c] + eps);
}

/* The sums of dy and dy * xhat over one channel (the bias and scale gradients). */
CS_SIMD_CLONES static void
bn_channel_grad_sums (const bn_geom *g, int64_t c, const float *x, const float *dy, double mean,
                      double inv, double *sum_dy_out, double *sum_dy_xhat_out)
{
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
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
  *sum_dy_out = sum_dy;
  *sum_dy_xhat_out = sum_dy_xhat;
}

/* dx of one channel, written (fresh) or added; in training from the sums over the m values
 * of the channel in the whole batch. */
CS_SIMD_CLONES static void
bn_channel_dx (const bn_geom *g, int64_t c, const float *x, const float *dy, float *dx, bool fresh,
               bool training, double mean, double inv, float scale, double sum_dy,
               double sum_dy_xhat, double m)
{
  float k_dy = (float) (scale * inv);
  if (!training)
    {
      for (int64_t n = 0; n < g->n; n++)
        {
          const float *dyp = dy + (n * g->c + c) * g->s;
          float *dxp = dx + (n * g->c + c) * g->s;
          if (fresh)
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
      if (fresh)
#pragma omp simd
        for (int64_t k = 0; k < g->s; k++)
          dxp[k] = k_dy * (dyp[k] - mean_dy - (xp[k] - fmean) * k_xhat);
      else
#pragma omp simd
        for (int64_t k = 0; k < g->s; k++)
          dxp[k] += k_dy * (dyp[k] - mean_dy - (xp[k] - fmean) * k_xhat);
    }
}

static void
write_grad (float *d, bool fresh, double sum)
{
  if (d != NULL)
    *d = (fresh ? 0.0f : *d) + (float) sum;
}

/* Inference: the statistics are constants, so dx = dy * scale / std. Training: the gradient
 * also flows through the batch mean and variance,
 *   dx = scale / std * (dy - mean(dy) - xhat * mean(dy * xhat)),
 * the means over the whole batch (on a slice of it, through its group). The scale and bias
 * gradients are the slice's own sums: the trainer adds the slices' parameter gradients.
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
  const bool fresh_x = cs_din_fresh (call, BN_X), fresh_scale = cs_din_fresh (call, BN_SCALE);
  const bool fresh_bias = cs_din_fresh (call, BN_BIAS);
  const double m = (double) (g.n * g.s);
  cs_batch_group *grp = training && dx != NULL ? call->ctx->group : NULL;
  if (grp != NULL)
    {
      const int32_t me = call->ctx->group_member;
      double *part = cs_batch_group_part (grp, me);
      for (int64_t c = 0; c < g.c; c++)
        {
          bn_channel_grad_sums (&g, c, x, dy, stats_mean[c], inv_std (stats_var, c, eps), &part[c],
                                &part[g.c + c]);
          write_grad (dbias != NULL ? &dbias[c] : NULL, fresh_bias, part[c]);
          write_grad (dscale != NULL ? &dscale[c] : NULL, fresh_scale, part[g.c + c]);
        }
      part[2 * g.c] = m;
      const double *total = cs_batch_group_sum (grp, me, 2 * g.c + 1);
      if (total == NULL)
        return CS_ERR_CANCELLED;
      for (int64_t c = 0; c < g.c; c++)
        bn_channel_dx (&g, c, x, dy, dx, fresh_x, true, stats_mean[c],
                       inv_std (stats_var, c, eps), scale[c], total[c],
                       total[g.c + c], total[2 * g.c]);
      return CS_OK;
    }
#pragma omp parallel for if (g.n * g.c * g.s >= PAR_MIN) schedule (static)
  for (int64_t c = 0; c < g.c; c++)
    {
      double inv = inv_std (stats_var, c, eps);
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      if (sums)
        bn_channel_grad_sums (&g, c, x, dy, stats_mean[c], inv, &sum_dy, &sum_dy_xhat);
      write_grad (dbias != NULL ? &dbias[c] : NULL, fresh_bias, sum_dy);
      write_grad (dscale != NULL ? &dscale[c] : NULL, fresh_scale, sum_dy_xhat);
      if (dx != NULL)
        bn_channel_dx (&g, c, x, dy, dx, fresh_x, training, stats_mean[c], inv, scale[c], sum_dy,
                       sum_dy_xhat, m);
    }
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
