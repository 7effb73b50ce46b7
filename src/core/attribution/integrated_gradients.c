/* Integrated Gradients (Sundararajan et al. 2017): (x - x') times the mean gradient along the
 * straight path from the baseline x' to x, midpoint rule at alphas (k + 1/2) / steps. The
 * steps are taken coarse to fine (bit-reversed order), so that every prefix is spread along
 * the whole path and the running mean is a usable estimate (progressive results); the full
 * sum is the same Riemann sum at any batch size. */
#include <stdlib.h>

#include "attribution/baseline.h"
#include "attribution/score.h"

typedef struct {
  const float *x, *x0;
  int64_t per;
  int32_t steps;
  const int32_t *order;      /* sample index -> step index */
} path_inputs;

/* order[0..steps) = 0..steps-1 sorted by their bit-reversed value: 0, steps/2, steps/4,
 * 3 steps/4, ... for a power of two; each prefix of 2^j entries then holds one step in each
 * of 2^j equal stretches of the path. */
static void
coarse_to_fine (int32_t steps, int32_t *order)
{
  int bits = 0;
  while (((int64_t) 1 << bits) < steps)
    bits++;
  int32_t n = 0;
  for (int64_t i = 0; i < ((int64_t) 1 << bits); i++)
    {
      int64_t r = 0;
      for (int b = 0; b < bits; b++)
        if (i & ((int64_t) 1 << b))
          r |= (int64_t) 1 << (bits - 1 - b);
      if (r < steps)
        order[n++] = (int32_t) r;
    }
}

static void
fill_path (void *user_data, int64_t index, float *sample)
{
  const path_inputs *pi = user_data;
  float alpha = (float) (((double) pi->order[index] + 0.5) / (double) pi->steps);
  for (int64_t k = 0; k < pi->per; k++)
    sample[k] = pi->x0[k] + alpha * (pi->x[k] - pi->x0[k]);
}

static void
times_difference (void *user_data, float *raw)
{
  const path_inputs *pi = user_data;
  for (int64_t k = 0; k < pi->per; k++)
    raw[k] *= pi->x[k] - pi->x0[k];
}

cs_status
cs_method_integrated_gradients (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  cs_tensor x0;
  cs_status st = cs_baseline_make (ctx->p->baseline, ctx->input, ctx->p->seed, &x0, err);
  if (st != CS_OK)
    return st;
  int32_t *order = malloc ((size_t) ctx->p->steps * sizeof *order);
  if (order == NULL)
    {
      cs_tensor_free (&x0);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for %d steps", ctx->p->steps);
    }
  coarse_to_fine (ctx->p->steps, order);
  path_inputs pi = { .x = ctx->input->data, .x0 = x0.data, .per = cs_tensor_numel (ctx->input),
                     .steps = ctx->p->steps, .order = order };
  /* the steps draw nothing at random: a resumed run picks up the coarse-to-fine order at the
   * first step not done (a random baseline is redrawn from the seed, the same) */
  st = cs_score_mean_gradient (ctx, ctx->p->steps, fill_path, &pi, NULL, times_difference,
                               CS_REDUCE_SUM_ABS, out, err);
  free (order);
  cs_tensor_free (&x0);
  out->raw_is_signed = true;
  return st;
}
