/* SmoothGrad (Smilkov et al. 2017): the mean gradient over noisy copies of the input, Gaussian
 * noise of sigma = noise x (max - min of the input tensor), drawn from the seed. */
#include "attribution/score.h"

#include <stdlib.h>

#include "base/rng.h"
#include "base/threads.h"

/* Noise elements below which a parallel region costs more than it saves. */
#define PARALLEL_MIN 16384

typedef struct {
  const float *x;
  int64_t per;
  double sigma;
  cs_rng rng;
  double *draws;     /* 2 per element: the generator's uniforms in stream order */
  int32_t threads;
} noisy_inputs;

/* The uniforms come from the one generator in stream order, so each sample is exactly what a
 * serial cs_rng_normal loop gives; the logarithms and cosines (~30 ns an element: 250 ms of a
 * 50-sample SmoothGrad at 224x224, on one core while the others waited) run on the exec's
 * threads. */
static void
fill_noisy (void *user_data, int64_t index, float *sample)
{
  noisy_inputs *ni = user_data;
  (void) index; /* samples come in order: the generator's stream alone decides each one */
  double *u = ni->draws;
  for (int64_t k = 0; k < 2 * ni->per; k++)
    u[k] = cs_rng_uniform (&ni->rng);
  int previous = cs_threads_enter (ni->threads);
#pragma omp parallel for schedule (static) if (ni->per >= PARALLEL_MIN)
  for (int64_t k = 0; k < ni->per; k++)
    sample[k] = (float) ((double) ni->x[k] + ni->sigma * cs_rng_normal_from (u[2 * k], u[2 * k + 1]));
  cs_threads_leave (previous);
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
  ni.threads = cs_exec_threads (ctx->exec);
  ni.draws = malloc ((size_t) (2 * ni.per) * sizeof *ni.draws);
  if (ni.draws == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "SmoothGrad: cannot allocate the noise draws of "
                         "%lld elements", (long long) ni.per);
  /* a resumed run continues the generator's stream where the stopped run left it */
  cs_status st = cs_score_mean_gradient (ctx, ctx->p->samples, fill_noisy, &ni, &ni.rng, NULL,
                                         CS_REDUCE_MAX_ABS, out, err);
  free (ni.draws);
  out->raw_is_signed = true;
  return st;
}
