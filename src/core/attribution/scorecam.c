/* Score-CAM (Wang et al. 2020): each channel of the layer, upsampled and min-max normalised,
 * masks the input; the target's softmax probability on the masked input weights the channel.
 * The masked inputs go through the network in batches. */
#include <stdlib.h>
#include <string.h>

#include "attribution/cam.h"
#include "attribution/upsample.h"

cs_status
cs_method_scorecam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  if (cs_progress_cancelled (ctx->progress))
    return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  int64_t k, h, w;
  cs_status st = cs_cam_layer_geometry (ctx, &k, &h, &w, err);
  if (st == CS_OK)
    st = cs_exec_forward_until (ctx->exec, ctx->input, ctx->layer, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *x = ctx->input;
  int64_t c_in = x->shape.dim[1], height = x->shape.dim[2], width = x->shape.dim[3];
  int64_t plane = height * width, sample = c_in * plane;
  int64_t batch = ctx->batch < k ? ctx->batch : k;
  if (batch < 1)
    batch = 1;

  cs_tensor acts = { 0 }, masked = { 0 }, raw = { 0 };
  cs_shape as = cs_shape_make (3, (int64_t[]) { k, h, w });
  cs_shape ms = cs_shape_4d (batch, c_in, height, width);
  double *weights = calloc ((size_t) k, sizeof *weights);
  double *scores = calloc ((size_t) batch, sizeof *scores);
  int64_t *channel = calloc ((size_t) batch, sizeof *channel);
  float *mask = cs_alloc_floats (plane);
  if (weights == NULL || scores == NULL || channel == NULL || mask == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_tensor_alloc (&acts, &as, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&masked, &ms, err);
  if (st == CS_OK)
    memcpy (acts.data, cs_exec_value (ctx->exec, ctx->layer)->data,
            (size_t) (k * h * w) * sizeof (float));

  int32_t passes = 1;
  int64_t next = 0;
  while (st == CS_OK && next < k)
    {
      if (cs_progress_cancelled (ctx->progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      /* Fill a batch with the next channels whose upsampled map is not constant; the others
       * keep weight 0 and cost no forward pass. */
      int64_t n = 0;
      for (; next < k && n < batch; next++)
        {
          cs_upsample_bilinear (acts.data + next * h * w, h, w, mask, height, width);
          if (!cs_upsample_minmax (mask, plane))
            continue;
          float *dst = masked.data + n * sample;
          for (int64_t c = 0; c < c_in; c++)
            for (int64_t i = 0; i < plane; i++)
              dst[c * plane + i] = x->data[c * plane + i] * mask[i];
          channel[n++] = next;
        }
      if (n == 0)
        break;
      cs_shape bs = cs_shape_4d (n, c_in, height, width);
      cs_tensor view = cs_tensor_view (&bs, masked.data);
      st = cs_cam_batch_scores (ctx, &view, scores, err);
      if (st != CS_OK)
        break;
      for (int64_t i = 0; i < n; i++)
        weights[channel[i]] = scores[i];
      passes += (int32_t) n;
      cs_progress_report (ctx->progress, (double) next / (double) k);
    }
  if (st == CS_OK)
    st = cs_cam_weighted_sum (&acts, weights, &raw, err);
  free (weights);
  free (scores);
  free (channel);
  cs_free_floats (mask);
  cs_tensor_free (&acts);
  cs_tensor_free (&masked);
  if (st != CS_OK)
    return st;
  return cs_cam_finish (ctx, &raw, passes, out, err);
}
