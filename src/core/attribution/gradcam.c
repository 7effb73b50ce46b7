/* Grad-CAM (Selvaraju et al. 2017): channels weighted by their mean gradient. */
#include "attribution/cam.h"

/* w_k = mean over positions of dS/dA_k */
static void
mean_gradient (const cs_tensor *acts, const cs_tensor *grads, double *weights)
{
  int64_t k = acts->shape.dim[0], hw = acts->shape.dim[1] * acts->shape.dim[2];
  for (int64_t c = 0; c < k; c++)
    {
      double sum = 0;
      for (int64_t i = 0; i < hw; i++)
        sum += grads->data[c * hw + i];
      weights[c] = sum / (double) hw;
    }
}

cs_status
cs_method_gradcam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  return cs_cam_run_weighted (ctx, mean_gradient, out, err);
}
