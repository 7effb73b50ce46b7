/* SmoothGrad (Smilkov et al. 2017): the mean gradient over noisy copies of the input, Gaussian
 * noise of sigma = noise x (max - min of the input tensor), drawn from the seed. */
#include "attribution/score.h"

#include "base/rng.h"

typedef struct {
  const float *x;
  int64_t per;
  double sigma;
  cs_rng rng;
} noisy_inputs;

static void
fill_noisy (void *user_data, int64_t index, float *sample)
{
  noisy_inputs *ni = user_data;
  (void) index; /* samples come in order: the generator's stream alone decides each one */
  for (int64_t k = 0; k < ni->per; k++)
    sample[k] = (float) ((double) ni->x[k] + ni->sigma * cs_rng_normal (&ni->rng));
}

cs_status
cs_method_smoothgrad (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  noisy_inputs ni = { .x = ctx->input->data, .per = cs_tensor_numel (ctx->input) };
  float lo = ni.x[0], hi = ni.x[0];
  for (int64_t k = 1; k < ni.per; k++)
    {
      lo = ni.x[k] < lo ? ni.x[k] : lo;
      hi = ni.x[k] > hi ? ni.x[k] : hi;
    }
  ni.sigma = (double) ctx->p->noise * ((double) hi - (double) lo);
  cs_rng_seed (&ni.rng, ctx->p->seed);
  /* a resumed run continues the generator's stream where the stopped run left it */
  cs_status st = cs_score_mean_gradient (ctx, ctx->p->samples, fill_noisy, &ni, &ni.rng, NULL,
                                         CS_REDUCE_MAX_ABS, out, err);
  out->raw_is_signed = true;
  return st;
}
