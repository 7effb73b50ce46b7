/* Shared pieces of the CAM methods and RISE: the explained score, the layer's activations and
 * gradients, the weighted channel sum and the displayed map. */
#include "attribution/cam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/score.h"
#include "base/softmax.h"
#include "attribution/upsample.h"

cs_status
cs_cam_score_seed (const cs_method_ctx *ctx, int32_t *from, cs_tensor *seed, cs_error *err)
{
  cs_score s;
  cs_status st = cs_score_resolve (&s, ctx, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (seed, &ctx->model->graph->nodes[s.node].shape, err);
  if (st != CS_OK)
    return st;
  cs_score_fill_seed (&s, seed->data, 1);
  *from = s.node;
  return CS_OK;
}

int32_t
cs_cam_score_node (const cs_method_ctx *ctx)
{
  return ctx->p->unit_layer >= 0 ? ctx->p->unit_layer : ctx->model->graph->output_node;
}

cs_status
cs_cam_batch_scores (const cs_method_ctx *ctx, const cs_tensor *input, double *scores,
                     cs_error *err)
{
  int64_t n = input->shape.dim[0];
  cs_score s;
  cs_status st = cs_score_resolve (&s, ctx, err);
  if (st != CS_OK)
    return st;
  if (s.channel >= 0)
    {
      st = cs_exec_forward_until (ctx->exec, input, s.node, err);
      if (st != CS_OK)
        return st;
      const cs_tensor *v = cs_exec_value (ctx->exec, s.node);
      for (int64_t i = 0; i < n; i++)
        {
          const float *d = v->data + i * s.per_sample + (int64_t) s.channel * s.plane;
          double sum = 0;
          for (int64_t k = 0; k < s.plane; k++)
            sum += d[k];
          scores[i] = sum / (double) s.plane;
        }
      return CS_OK;
    }
  st = cs_exec_forward (ctx->exec, input, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *logits = cs_exec_value (ctx->exec, s.node);
  int64_t classes = s.per_sample;
  for (int64_t i = 0; i < n; i++)
    {
      scores[i] = cs_softmax_at (logits->data + i * classes, classes, s.target);
      if (!isfinite (scores[i]))
        return cs_error_set (err, CS_ERR_ARGUMENT, "the model's output is not finite");
    }
  return CS_OK;
}

cs_status
cs_cam_layer_geometry (const cs_method_ctx *ctx, int64_t *k, int64_t *h, int64_t *w, cs_error *err)
{
  const cs_graph *g = ctx->model->graph;
  if (ctx->layer < 0 || ctx->layer >= g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no CAM layer (node %d)", ctx->layer);
  const cs_node *node = &g->nodes[ctx->layer];
  if (!node->batched || node->shape.ndim != 4)
    {
      char buf[128];
      return cs_error_set (err, CS_ERR_ARGUMENT, "layer '%s' has shape %s: a CAM layer must be a "
                           "feature map [N,C,H,W] computed from the input", node->name,
                           cs_shape_format (&node->shape, buf, sizeof buf));
    }
  *k = node->shape.dim[1];
  *h = node->shape.dim[2];
  *w = node->shape.dim[3];
  return CS_OK;
}

cs_status
cs_cam_layer_gradients (const cs_method_ctx *ctx, cs_tensor *acts, cs_tensor *grads,
                        cs_error *err)
{
  int64_t k, h, w;
  int32_t from = -1;
  cs_tensor seed = { 0 };
  cs_status st = cs_cam_layer_geometry (ctx, &k, &h, &w, err);
  if (st == CS_OK && !cs_method_input_forwarded (ctx))
    st = cs_exec_forward (ctx->exec, ctx->input, err);
  if (st == CS_OK)
    st = cs_cam_score_seed (ctx, &from, &seed, err);
  /* CAM weights come from true gradients, whatever rule an earlier method left set. */
  cs_exec_set_relu_rule (ctx->exec, CS_RELU_RULE_GRADIENT);
  if (st == CS_OK)
    st = cs_exec_backward_to (ctx->exec, from, &seed, ctx->layer, err);
  cs_tensor_free (&seed);
  if (st != CS_OK)
    return st;
  cs_shape s = cs_shape_make (3, (int64_t[]) { k, h, w });
  st = cs_tensor_alloc (acts, &s, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (grads, &s, err);
  if (st != CS_OK)
    {
      cs_tensor_free (acts);
      return st;
    }
  memcpy (acts->data, cs_exec_value (ctx->exec, ctx->layer)->data, (size_t) (k * h * w) * sizeof (float));
  memcpy (grads->data, cs_exec_grad (ctx->exec, ctx->layer)->data, (size_t) (k * h * w) * sizeof (float));
  return CS_OK;
}

cs_status
cs_cam_weighted_sum (const cs_tensor *acts, const double *weights, cs_tensor *raw, cs_error *err)
{
  int64_t k = acts->shape.dim[0], h = acts->shape.dim[1], w = acts->shape.dim[2];
  cs_shape s = cs_shape_make (2, (int64_t[]) { h, w });
  cs_status st = cs_tensor_alloc (raw, &s, err);
  if (st != CS_OK)
    return st;
  for (int64_t i = 0; i < h * w; i++)
    {
      double sum = 0;
      for (int64_t c = 0; c < k; c++)
        sum += weights[c] * (double) acts->data[c * h * w + i];
      raw->data[i] = sum > 0 ? (float) sum : 0.0f;
    }
  return CS_OK;
}

cs_status
cs_cam_finish (const cs_method_ctx *ctx, cs_tensor *raw, int32_t passes, cs_attribution *out,
               cs_error *err)
{
  cs_tensor map = { 0 };
  cs_status st = cs_upsample_cam_map (raw, ctx->input->shape.dim[2], ctx->input->shape.dim[3],
                                      &map, err);
  if (st != CS_OK)
    {
      cs_tensor_free (raw);
      return st;
    }
  out->raw = *raw;
  *raw = (cs_tensor) { 0 };
  out->map = map;
  out->raw_is_signed = false;
  out->passes = passes;
  return CS_OK;
}

cs_status
cs_cam_run_weighted (const cs_method_ctx *ctx, cs_cam_weigh_fn weigh, cs_attribution *out,
                     cs_error *err)
{
  if (cs_progress_cancelled (ctx->progress))
    return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  cs_tensor acts = { 0 }, grads = { 0 }, raw = { 0 };
  cs_status st = cs_cam_layer_gradients (ctx, &acts, &grads, err);
  if (st != CS_OK)
    return st;
  double *weights = malloc ((size_t) acts.shape.dim[0] * sizeof *weights);
  if (weights == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  else
    {
      weigh (&acts, &grads, weights);
      st = cs_cam_weighted_sum (&acts, weights, &raw, err);
    }
  free (weights);
  cs_tensor_free (&acts);
  cs_tensor_free (&grads);
  if (st != CS_OK)
    return st;
  cs_progress_report (ctx->progress, 1.0);
  return cs_cam_finish (ctx, &raw, 1, out, err);
}
