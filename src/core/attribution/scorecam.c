/* Score-CAM (Wang et al. 2020): each channel of the layer, upsampled and min-max normalised,
 * masks the input; the target's softmax probability on the masked input weights the channel.
 * The masked inputs go through the network in batches, the channels with the highest mean
 * activation first: the weighted sum over the channels done so far is the progressive
 * estimate, and the final sum runs in channel order whatever the visiting order. */
#include <stdlib.h>
#include <string.h>

#include "attribution/cam.h"
#include "attribution/upsample.h"

typedef struct {
  double mean;
  int64_t channel;
} ranked;

static int
by_mean_desc (const void *a, const void *b)
{
  const ranked *x = a, *y = b;
  if (x->mean != y->mean)
    return x->mean > y->mean ? -1 : 1;
  return x->channel < y->channel ? -1 : x->channel > y->channel;
}

/* order[0..k) = channels of acts [K,h,w] by decreasing mean activation (ties: lower index). */
static cs_status
rank_channels (const cs_tensor *acts, int64_t *order, cs_error *err)
{
  int64_t k = acts->shape.dim[0], hw = acts->shape.dim[1] * acts->shape.dim[2];
  ranked *r = malloc ((size_t) k * sizeof *r);
  if (r == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld channels", (long long) k);
  for (int64_t c = 0; c < k; c++)
    {
      double sum = 0;
      for (int64_t i = 0; i < hw; i++)
        sum += acts->data[c * hw + i];
      r[c] = (ranked) { sum / (double) hw, c };
    }
  qsort (r, (size_t) k, sizeof *r, by_mean_desc);
  for (int64_t c = 0; c < k; c++)
    order[c] = r[c].channel;
  free (r);
  return CS_OK;
}

/* The estimate from the weights known so far (the others 0), handed to the listener. */
static cs_status
scorecam_partial (const cs_method_ctx *ctx, const cs_tensor *acts, const double *weights,
                  double fraction, cs_error *err)
{
  cs_tensor raw = { 0 }, map = { 0 };
  cs_status st = cs_cam_weighted_sum (acts, weights, &raw, err);
  if (st == CS_OK)
    st = cs_upsample_cam_map (&raw, ctx->input->shape.dim[2], ctx->input->shape.dim[3], &map, err);
  if (st == CS_OK)
    cs_method_partial (ctx, &map, fraction);
  cs_tensor_free (&raw);
  cs_tensor_free (&map);
  return st;
}

cs_status
cs_method_scorecam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  if (cs_progress_cancelled (ctx->progress))
    return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  int64_t k, h, w;
  cs_status st = cs_cam_layer_geometry (ctx, &k, &h, &w, err);
  /* masked inputs in batches of the measured fastest size (at most the exec's, at most k);
   * measured first, so that the driver's forward of the input can serve the layer's maps */
  cs_method_ctx probe = *ctx;
  probe.batch = (int32_t) (ctx->batch < k ? ctx->batch : k);
  int32_t fastest = 1;
  if (st == CS_OK)
    st = cs_method_fastest_forward_batch (&probe, cs_cam_score_node (ctx), &fastest, err);
  if (st == CS_OK && !cs_method_input_forwarded (ctx))
    st = cs_exec_forward_until (ctx->exec, ctx->input, ctx->layer, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *x = ctx->input;
  int64_t c_in = x->shape.dim[1], height = x->shape.dim[2], width = x->shape.dim[3];
  int64_t plane = height * width, sample = c_in * plane;
  int64_t batch = fastest > 0 ? fastest : 1;

  cs_tensor acts = { 0 }, masked = { 0 }, raw = { 0 };
  cs_shape as = cs_shape_make (3, (int64_t[]) { k, h, w });
  cs_shape ms = cs_shape_4d (batch, c_in, height, width);
  double *weights = calloc ((size_t) k, sizeof *weights);
  double *scores = calloc ((size_t) batch, sizeof *scores);
  int64_t *channel = calloc ((size_t) batch, sizeof *channel);
  int64_t *order = calloc ((size_t) k, sizeof *order);
  float *mask = cs_alloc_floats (plane);
  if (weights == NULL || scores == NULL || channel == NULL || order == NULL || mask == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_tensor_alloc (&acts, &as, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&masked, &ms, err);
  if (st == CS_OK)
    memcpy (acts.data, cs_exec_value (ctx->exec, ctx->layer)->data,
            (size_t) (k * h * w) * sizeof (float));
  if (st == CS_OK)
    st = rank_channels (&acts, order, err);

  int32_t passes = 1;
  int64_t next = 0;
  /* "refine further": a budget-stopped run continues at the next channel of the same order
   * (the ranking is recomputed from the same activations) with the weights it found */
  const cs_resume_work *saved = st == CS_OK ? cs_method_resume_find (ctx) : NULL;
  if (saved != NULL && saved->total == k && saved->n_doubles == k && saved->done < k)
    {
      memcpy (weights, saved->doubles, (size_t) k * sizeof (double));
      next = saved->done;
      passes = saved->passes;
    }
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
          int64_t ch = order[next];
          cs_upsample_bilinear (acts.data + ch * h * w, h, w, mask, height, width);
          if (!cs_upsample_minmax (mask, plane))
            continue;
          float *dst = masked.data + n * sample;
          for (int64_t c = 0; c < c_in; c++)
            for (int64_t i = 0; i < plane; i++)
              dst[c * plane + i] = x->data[c * plane + i] * mask[i];
          channel[n++] = ch;
        }
      if (n == 0)
        break;  /* only constant channels were left */
      cs_shape bs = cs_shape_4d (n, c_in, height, width);
      cs_tensor view = cs_tensor_view (&bs, masked.data);
      st = cs_cam_batch_scores (ctx, &view, scores, err);
      if (st != CS_OK)
        break;
      for (int64_t i = 0; i < n; i++)
        weights[channel[i]] = scores[i];
      passes += (int32_t) n;
      cs_progress_report (ctx->progress, (double) next / (double) k);
      if (next < k && cs_method_wants_partial (ctx))
        st = scorecam_partial (ctx, &acts, weights, (double) next / (double) k, err);
      if (next < k && cs_method_out_of_budget (ctx))
        break;
    }
  out->completed = (double) next / (double) k;
  cs_resume_work state = { .done = next, .total = k, .passes = passes, .doubles = weights,
                           .n_doubles = k };
  st = cs_method_resume_end (ctx, st, &state, err);
  if (st == CS_OK)
    st = cs_cam_weighted_sum (&acts, weights, &raw, err);
  free (weights);
  free (scores);
  free (channel);
  free (order);
  cs_free_floats (mask);
  cs_tensor_free (&acts);
  cs_tensor_free (&masked);
  if (st != CS_OK)
    return st;
  return cs_cam_finish (ctx, &raw, passes, out, err);
}
