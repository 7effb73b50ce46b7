/* Layer-CAM (Jiang et al. 2021): each position's activation weighted by its own positive
 * gradient, which keeps fine detail that a per-channel mean averages away. */
#include "attribution/cam.h"

cs_status
cs_method_layercam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  if (cs_progress_cancelled (ctx->progress))
    return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  cs_tensor acts = { 0 }, grads = { 0 }, raw = { 0 };
  cs_status st = cs_cam_layer_gradients (ctx, &acts, &grads, err);
  if (st != CS_OK)
    return st;
  int64_t k = acts.shape.dim[0], h = acts.shape.dim[1], w = acts.shape.dim[2], hw = h * w;
  cs_shape s = cs_shape_make (2, (int64_t[]) { h, w });
  st = cs_tensor_alloc (&raw, &s, err);
  if (st == CS_OK)
    for (int64_t i = 0; i < hw; i++)
      {
        double sum = 0;
        for (int64_t c = 0; c < k; c++)
          {
            float g = grads.data[c * hw + i];
            if (g > 0)
              sum += (double) g * (double) acts.data[c * hw + i];
          }
        raw.data[i] = sum > 0 ? (float) sum : 0.0f;
      }
  cs_tensor_free (&acts);
  cs_tensor_free (&grads);
  if (st != CS_OK)
    return st;
  cs_progress_report (ctx->progress, 1.0);
  return cs_cam_finish (ctx, &raw, 1, out, err);
}
