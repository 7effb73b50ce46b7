/* The explained score of a batch and its seed gradient (one-hot on the target logit, or the
 * mean activation of a unit's channel), plus forward/backward-to-input helpers. */
#include "attribution/score.h"

#include "attribution/map.h"

#include <string.h>

cs_status
cs_score_resolve (cs_score *s, const cs_method_ctx *ctx, cs_error *err)
{
  const cs_graph *g = ctx->model->graph;
  const cs_attribution_params *p = ctx->p;
  memset (s, 0, sizeof *s);
  s->channel = -1;
  s->target = -1;
  if (p->unit_layer >= 0)
    {
      if (p->unit_layer >= g->n_nodes)
        return cs_error_set (err, CS_ERR_ARGUMENT, "no node %d in the graph", p->unit_layer);
      const cs_node *node = &g->nodes[p->unit_layer];
      if (!node->batched || node->op == CS_OP_INPUT || node->shape.ndim < 2)
        return cs_error_set (err, CS_ERR_ARGUMENT,
                             "node '%s' has no units: it must be a layer with channels", node->name);
      if (p->unit_channel < 0 || p->unit_channel >= node->shape.dim[1])
        return cs_error_set (err, CS_ERR_ARGUMENT, "node '%s' has %lld channels, not unit %d",
                             node->name, (long long) node->shape.dim[1], p->unit_channel);
      s->node = p->unit_layer;
      s->channel = p->unit_channel;
      s->per_sample = cs_shape_numel (&node->shape);
      s->plane = s->per_sample / node->shape.dim[1];
      return CS_OK;
    }
  s->node = g->output_node;
  s->target = ctx->target;
  s->per_sample = cs_shape_numel (&g->nodes[s->node].shape);
  if (ctx->target < 0 || ctx->target >= s->per_sample)
    return cs_error_set (err, CS_ERR_ARGUMENT, "class %d is not one of the %lld outputs",
                         ctx->target, (long long) s->per_sample);
  return CS_OK;
}

void
cs_score_fill_seed (const cs_score *s, float *seed, int32_t n)
{
  memset (seed, 0, (size_t) (n * s->per_sample) * sizeof (float));
  for (int32_t i = 0; i < n; i++)
    {
      float *row = seed + (int64_t) i * s->per_sample;
      if (s->channel < 0)
        row[s->target] = 1.0f;
      else
        {
          float v = (float) (1.0 / (double) s->plane);
          float *plane = row + (int64_t) s->channel * s->plane;
          for (int64_t k = 0; k < s->plane; k++)
            plane[k] = v;
        }
    }
}

cs_status
cs_score_init (cs_score *s, const cs_method_ctx *ctx, cs_error *err)
{
  const cs_graph *g = ctx->model->graph;
  cs_status st = cs_score_resolve (s, ctx, err);
  if (st != CS_OK)
    return st;
  cs_shape ss = g->nodes[s->node].shape;
  ss.dim[0] = ctx->batch;
  st = cs_tensor_alloc (&s->seed, &ss, err);
  if (st != CS_OK)
    return st;
  cs_shape is = ctx->input->shape;
  is.dim[0] = ctx->batch;
  st = cs_tensor_alloc (&s->inputs, &is, err);
  if (st != CS_OK)
    cs_tensor_free (&s->seed);
  return st;
}

void
cs_score_free (cs_score *s)
{
  cs_tensor_free (&s->seed);
  cs_tensor_free (&s->inputs);
}

cs_tensor
cs_score_batch (cs_score *s, int32_t n)
{
  cs_shape sh = s->inputs.shape;
  sh.dim[0] = n;
  return cs_tensor_view (&sh, s->inputs.data);
}

cs_status
cs_score_forward (cs_score *s, cs_exec *e, const cs_tensor *batch, float *scores, cs_error *err)
{
  cs_status st = s->reuse_forward ? CS_OK : cs_exec_forward_until (e, batch, s->node, err);
  s->reuse_forward = false;
  if (st != CS_OK || scores == NULL)
    return st;
  cs_score_read (s, cs_exec_value (e, s->node), batch->shape.dim[0], scores);
  return CS_OK;
}

void
cs_score_read (const cs_score *s, const cs_tensor *v, int64_t n, float *scores)
{
  for (int64_t i = 0; i < n; i++)
    {
      const float *row = v->data + i * s->per_sample;
      if (s->channel < 0)
        scores[i] = row[s->target];
      else
        {
          /* summed in double so that the unit's score does not depend on the map size */
          double sum = 0;
          const float *plane = row + (int64_t) s->channel * s->plane;
          for (int64_t k = 0; k < s->plane; k++)
            sum += plane[k];
          scores[i] = (float) (sum / (double) s->plane);
        }
    }
}

cs_status
cs_score_backward (cs_score *s, cs_exec *e, uint32_t flags, cs_error *err)
{
  int32_t n = cs_exec_batch (e);
  cs_shape sh = s->seed.shape;
  sh.dim[0] = n;
  cs_tensor seed = cs_tensor_view (&sh, s->seed.data);
  cs_score_fill_seed (s, seed.data, n);
  return cs_exec_backward (e, s->node, &seed, flags, err);
}

cs_status
cs_score_input_gradient (cs_score *s, cs_exec *e, const cs_tensor *batch, cs_relu_rule rule,
                         float *scores, cs_error *err)
{
  cs_relu_rule previous = cs_exec_relu_rule (e);
  cs_exec_set_relu_rule (e, rule);
  cs_status st = cs_score_forward (s, e, batch, scores, err);
  if (st == CS_OK)
    st = cs_score_backward (s, e, CS_GRAD_INPUT, err);
  cs_exec_set_relu_rule (e, previous);
  if (st == CS_OK && cs_exec_grad (e, cs_exec_model (e)->graph->input_node) == NULL)
    st = cs_error_set (err, CS_ERR_ARGUMENT, "the explained score does not depend on the input");
  return st;
}

cs_status
cs_score_gradient (const cs_method_ctx *ctx, cs_relu_rule rule, cs_tensor *grad, cs_error *err)
{
  cs_score s;
  memset (grad, 0, sizeof *grad);
  cs_status st = cs_score_init (&s, ctx, err);
  if (st != CS_OK)
    return st;
  s.reuse_forward = cs_method_input_forwarded (ctx);
  st = cs_score_input_gradient (&s, ctx->exec, ctx->input, rule, NULL, err);
  if (st == CS_OK)
    {
      const cs_tensor *g = cs_exec_grad (ctx->exec, ctx->model->graph->input_node);
      cs_shape chw = cs_shape_make (3, &ctx->input->shape.dim[1]);
      st = cs_tensor_alloc (grad, &chw, err);
      if (st == CS_OK)
        memcpy (grad->data, g->data, (size_t) cs_tensor_numel (grad) * sizeof (float));
    }
  cs_score_free (&s);
  return st;
}

/* The estimate over `done` samples: raw = finish (sum / done), map from raw. */
static cs_status
mean_estimate (const double *sum, int64_t per, int64_t done, cs_score_finish_fn finish,
               void *user_data, cs_channel_reduce reduce, cs_tensor *raw, cs_tensor *map,
               cs_error *err)
{
  for (int64_t k = 0; k < per; k++)
    raw->data[k] = (float) (sum[k] / (double) done);
  if (finish != NULL)
    finish (user_data, raw->data);
  cs_tensor_free (map);
  return cs_map_from_pixels (raw, reduce, map, err);
}

cs_status
cs_score_mean_gradient (const cs_method_ctx *ctx, int64_t count, cs_score_fill_fn fill,
                        void *user_data, cs_rng *rng, cs_score_finish_fn finish,
                        cs_channel_reduce reduce, cs_attribution *out, cs_error *err)
{
  out->passes = 0;
  cs_tensor raw = { 0 }, map = { 0 };
  cs_score s;
  cs_status st = cs_score_init (&s, ctx, err);
  if (st != CS_OK)
    return st;
  int64_t per = cs_tensor_numel (ctx->input);
  /* doubles, so that the mean of many samples does not depend on how they were chunked */
  float *sum_block = cs_alloc_floats (2 * per);
  double *sum = (double *) sum_block;
  cs_shape chw = cs_shape_make (3, &ctx->input->shape.dim[1]);
  if (sum_block == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for a %lld-element gradient", (long long) per);
  if (st == CS_OK)
    st = cs_tensor_alloc (&raw, &chw, err);
  int32_t input_node = ctx->model->graph->input_node;
  int64_t done = 0;
  /* "refine further": a budget-stopped run of the same samples continues where it stopped,
   * with the same chunks (it stopped after a whole one), so the sums come out bit-identical */
  const cs_resume_work *saved = st == CS_OK ? cs_method_resume_find (ctx) : NULL;
  if (saved != NULL && saved->total == count && saved->n_doubles == per && saved->done < count)
    {
      memcpy (sum, saved->doubles, (size_t) per * sizeof (double));
      if (rng != NULL)
        memcpy (rng->s, saved->rng, sizeof rng->s);
      done = saved->done;
      out->passes = saved->passes;
    }
  while (st == CS_OK && done < count)
    {
      if (cs_progress_cancelled (ctx->progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      int32_t n = (int32_t) (count - done < ctx->batch ? count - done : ctx->batch);
      cs_tensor batch = cs_score_batch (&s, n);
      for (int32_t i = 0; i < n; i++)
        fill (user_data, done + i, batch.data + i * per);
      st = cs_score_input_gradient (&s, ctx->exec, &batch, CS_RELU_RULE_GRADIENT, NULL, err);
      if (st != CS_OK)
        break;
      const float *g = cs_exec_grad (ctx->exec, input_node)->data;
      for (int32_t i = 0; i < n; i++)
        for (int64_t k = 0; k < per; k++)
          sum[k] += g[i * per + k];
      done += n;
      out->passes += n;
      cs_progress_report (ctx->progress, (double) done / (double) count);
      if (done < count && cs_method_wants_partial (ctx))
        {
          st = mean_estimate (sum, per, done, finish, user_data, reduce, &raw, &map, err);
          if (st == CS_OK)
            cs_method_partial (ctx, &map, (double) done / (double) count);
        }
      if (done < count && cs_method_out_of_budget (ctx))
        break;
    }
  cs_resume_work w = { .done = done, .total = count, .passes = out->passes, .doubles = sum,
                       .n_doubles = per };
  if (rng != NULL)
    memcpy (w.rng, rng->s, sizeof w.rng);
  st = cs_method_resume_end (ctx, st, &w, err);
  if (st == CS_OK)
    st = mean_estimate (sum, per, done, finish, user_data, reduce, &raw, &map, err);
  cs_free_floats (sum_block);
  cs_score_free (&s);
  return cs_method_hand_over (st, &raw, &map, (double) done / (double) count, out);
}

cs_status
cs_score_gradient_attribution (const cs_method_ctx *ctx, cs_relu_rule rule, cs_attribution *out,
                               cs_error *err)
{
  cs_status st = cs_score_gradient (ctx, rule, &out->raw, err);
  if (st == CS_OK)
    st = cs_map_from_pixels (&out->raw, CS_REDUCE_MAX_ABS, &out->map, err);
  if (st != CS_OK)
    cs_tensor_free (&out->raw);
  out->raw_is_signed = true;
  out->passes = 1;
  return st;
}
