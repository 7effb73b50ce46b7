/* Grad-CAM (Selvaraju et al. 2017): channels weighted by their mean gradient. */
#include <stdlib.h>

#include "attribution/cam.h"

cs_status
cs_method_gradcam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
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
          double sum = 0;
          for (int64_t i = 0; i < hw; i++)
            sum += grads.data[c * hw + i];
          weights[c] = sum / (double) hw;
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
