/* Integrated Gradients (Sundararajan et al. 2017): (x - x') times the mean gradient along the
 * straight path from the baseline x' to x, midpoint rule at alphas (k + 1/2) / steps. */
#include "attribution/baseline.h"
#include "attribution/map.h"
#include "attribution/score.h"

typedef struct {
  const float *x, *x0;
  int64_t per;
  int32_t steps;
} path_inputs;

static void
fill_path (void *user_data, int64_t index, float *sample)
{
  const path_inputs *pi = user_data;
  float alpha = (float) (((double) index + 0.5) / (double) pi->steps);
  for (int64_t k = 0; k < pi->per; k++)
    sample[k] = pi->x0[k] + alpha * (pi->x[k] - pi->x0[k]);
}

cs_status
cs_method_integrated_gradients (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  cs_tensor x0;
  cs_status st = cs_baseline_make (ctx->p->baseline, ctx->input, ctx->p->seed, &x0, err);
  if (st != CS_OK)
    return st;
  path_inputs pi = { .x = ctx->input->data, .x0 = x0.data, .per = cs_tensor_numel (ctx->input),
                     .steps = ctx->p->steps };
  st = cs_score_mean_gradient (ctx, ctx->p->steps, fill_path, &pi, &out->raw, &out->passes, err);
  if (st == CS_OK)
    {
      for (int64_t k = 0; k < pi.per; k++)
        out->raw.data[k] *= pi.x[k] - pi.x0[k];
      st = cs_map_from_pixels (&out->raw, CS_REDUCE_SUM_ABS, &out->map, err);
    }
  if (st != CS_OK)
    cs_tensor_free (&out->raw);
  cs_tensor_free (&x0);
  out->raw_is_signed = true;
  return st;
}
