/* Grad-CAM++ (Chattopadhay et al. 2018): channels weighted by positive gradients, each scaled
 * by the closed-form α of the paper (its exp factor cancels because the score is the logit). */
#include <math.h>
#include <stdlib.h>

#include "attribution/cam.h"

cs_status
cs_method_gradcam_pp (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  if (cs_progress_cancelled (ctx->progress))
    return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  cs_tensor acts = { 0 }, grads = { 0 }, raw = { 0 };
  cs_status st = cs_cam_layer_gradients (ctx, &acts, &grads, err);
  if (st != CS_OK)
    return st;
  int64_t k = acts.shape.dim[0], hw = acts.shape.dim[1] * acts.shape.dim[2];
  double *weights = malloc ((size_t) k * sizeof *weights);
  if (weights == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  else
    {
      for (int64_t c = 0; c < k; c++)
        {
          const float *a = acts.data + c * hw, *g = grads.data + c * hw;
          double total = 0;
          for (int64_t i = 0; i < hw; i++)
            total += a[i];
          double w = 0;
          for (int64_t i = 0; i < hw; i++)
            {
              double gi = g[i], g2 = gi * gi;
              double denom = 2.0 * g2 + total * g2 * gi;
              /* α = 0 where g = 0, and where the denominator vanishes (the paper's 0/0). */
              if (gi == 0.0 || denom == 0.0 || !isfinite (denom))
                continue;
              double alpha = g2 / denom;
              if (gi > 0)
                w += alpha * gi;
            }
          weights[c] = w;
        }
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
