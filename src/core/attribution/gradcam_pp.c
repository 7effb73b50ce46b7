/* Grad-CAM++ (Chattopadhay et al. 2018): channels weighted by positive gradients, each scaled
 * by the closed-form α of the paper (its exp factor cancels because the score is the logit). */
#include <math.h>

#include "attribution/cam.h"

/* w_k = Σ_positions α·ReLU(g), α = g² / (2g² + (Σ_positions A_k)·g³) */
static void
alpha_weights (const cs_tensor *acts, const cs_tensor *grads, double *weights)
{
  int64_t k = acts->shape.dim[0], hw = acts->shape.dim[1] * acts->shape.dim[2];
  for (int64_t c = 0; c < k; c++)
    {
      const float *a = acts->data + c * hw, *g = grads->data + c * hw;
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
}

cs_status
cs_method_gradcam_pp (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  return cs_cam_run_weighted (ctx, alpha_weights, out, err);
}
