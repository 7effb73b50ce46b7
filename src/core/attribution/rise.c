/* RISE (Petsiuk et al. 2018): random binary 7×7 grids, upsampled bilinearly with a random
 * shift, mask the input; the map is the probability-weighted mean mask. Masks are drawn in
 * order from one seeded generator, so the result does not depend on the batch size, and the
 * mean over the first n masks is an unbiased estimate of the map at any n (progressive). */
#include <stdlib.h>
#include <string.h>

#include "attribution/cam.h"
#include "attribution/upsample.h"
#include "base/rng.h"

#define RISE_GRID 7
#define RISE_KEEP 0.5

/* raw = the weighted mask sum over `done` masks, normalised; map = raw min-max normalised. */
static void
rise_estimate (const double *sum, int64_t plane, int64_t done, float *raw, float *map)
{
  double norm = (double) done * RISE_KEEP;
  for (int64_t i = 0; i < plane; i++)
    raw[i] = (float) (sum[i] / norm);
  memcpy (map, raw, (size_t) plane * sizeof (float));
  cs_upsample_minmax (map, plane);
}

cs_status
cs_method_rise (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  const cs_tensor *x = ctx->input;
  int64_t c_in = x->shape.dim[1], height = x->shape.dim[2], width = x->shape.dim[3];
  int64_t plane = height * width, sample = c_in * plane;
  int64_t total = ctx->p->samples > 0 ? ctx->p->samples : 4000;
  /* masks in batches of the measured fastest size (at most the exec's, at most the total) */
  cs_method_ctx probe = *ctx;
  probe.batch = (int32_t) (ctx->batch < total ? ctx->batch : total);
  int32_t fastest = 1;
  cs_status st = cs_method_fastest_forward_batch (&probe, cs_cam_score_node (ctx), &fastest, err);
  if (st != CS_OK)
    return st;
  int64_t batch = fastest > 0 ? fastest : 1;
  /* The grid is upsampled to one cell more than the input and cropped at a shift within a
   * cell, as the paper's reference code does, so cell borders fall anywhere. */
  int64_t cell_h = (height + RISE_GRID - 1) / RISE_GRID, cell_w = (width + RISE_GRID - 1) / RISE_GRID;
  int64_t full_h = height + cell_h, full_w = width + cell_w;

  cs_tensor masked = { 0 }, raw = { 0 }, map = { 0 };
  cs_shape ms = cs_shape_4d (batch, c_in, height, width);
  cs_shape ps = cs_shape_make (2, (int64_t[]) { height, width });
  double *sum = calloc ((size_t) plane, sizeof *sum);
  double *scores = calloc ((size_t) batch, sizeof *scores);
  float *masks = cs_alloc_floats (batch * plane);
  if (sum == NULL || scores == NULL || masks == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_tensor_alloc (&masked, &ms, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&raw, &ps, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&map, &ps, err);

  cs_rng rng;
  cs_rng_seed (&rng, ctx->p->seed);
  float grid[RISE_GRID * RISE_GRID];
  int64_t done = 0;
  /* "refine further": a budget-stopped run with the same masks continues where it stopped */
  const cs_resume_work *saved = st == CS_OK ? cs_method_resume_find (ctx) : NULL;
  if (saved != NULL && saved->total == total && saved->n_doubles == plane && saved->done < total)
    {
      memcpy (sum, saved->doubles, (size_t) plane * sizeof (double));
      memcpy (rng.s, saved->rng, sizeof rng.s);
      done = saved->done;
    }
  while (st == CS_OK && done < total)
    {
      if (cs_progress_cancelled (ctx->progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      int64_t n = total - done < batch ? total - done : batch;
      for (int64_t s = 0; s < n; s++)
        {
          for (int i = 0; i < RISE_GRID * RISE_GRID; i++)
            grid[i] = cs_rng_uniform (&rng) < RISE_KEEP ? 1.0f : 0.0f;
          int64_t dy = (int64_t) cs_rng_below (&rng, (uint64_t) cell_h);
          int64_t dx = (int64_t) cs_rng_below (&rng, (uint64_t) cell_w);
          float *mask = masks + s * plane;
          cs_upsample_bilinear_window (grid, RISE_GRID, RISE_GRID, full_h, full_w, dy, dx, height,
                                       width, mask);
          float *dst = masked.data + s * sample;
          for (int64_t c = 0; c < c_in; c++)
            for (int64_t i = 0; i < plane; i++)
              dst[c * plane + i] = x->data[c * plane + i] * mask[i];
        }
      cs_shape bs = cs_shape_4d (n, c_in, height, width);
      cs_tensor view = cs_tensor_view (&bs, masked.data);
      st = cs_cam_batch_scores (ctx, &view, scores, err);
      if (st != CS_OK)
        break;
      for (int64_t s = 0; s < n; s++)
        for (int64_t i = 0; i < plane; i++)
          sum[i] += scores[s] * (double) masks[s * plane + i];
      done += n;
      cs_progress_report (ctx->progress, (double) done / (double) total);
      if (done < total && (cs_method_wants_partial (ctx) || cs_method_out_of_budget (ctx)))
        {
          rise_estimate (sum, plane, done, raw.data, map.data);
          cs_method_partial (ctx, &map, (double) done / (double) total);
          if (cs_method_out_of_budget (ctx))
            break;
        }
    }
  cs_resume_work w = { .done = done, .total = total, .passes = (int32_t) done, .doubles = sum,
                       .n_doubles = plane };
  memcpy (w.rng, rng.s, sizeof w.rng);
  st = cs_method_resume_end (ctx, st, &w, err);
  if (st == CS_OK)
    rise_estimate (sum, plane, done, raw.data, map.data);
  free (sum);
  free (scores);
  cs_free_floats (masks);
  cs_tensor_free (&masked);
  out->raw_is_signed = false;
  out->passes = (int32_t) done;
  return cs_method_hand_over (st, &raw, &map, (double) done / (double) total, out);
}
