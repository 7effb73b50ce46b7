/* Occlusion (Zeiler & Fergus 2014): slide a K x K patch of the baseline over the input at
 * stride S (plus a last position flush with the border) and record how much the score drops.
 * raw (H,W) = mean drop over the windows covering each pixel (0 where none does); the map is
 * raw min-max normalised, like a CAM map. Windows go through the network in batches. */
#include <string.h>

#include "attribution/baseline.h"
#include "attribution/map.h"
#include "attribution/score.h"

/* Window offsets along an axis of `len`: 0, S, 2S, ... <= len - K, then len - K if missed.
 * Returns the count; pos may be NULL to count only. */
static int64_t
window_positions (int64_t len, int64_t k, int64_t stride, int64_t *pos)
{
  int64_t n = 0, last = -1;
  for (int64_t o = 0; o <= len - k; o += stride)
    {
      if (pos != NULL)
        pos[n] = o;
      n++;
      last = o;
    }
  if (last != len - k)
    {
      if (pos != NULL)
        pos[n] = len - k;
      n++;
    }
  return n;
}

cs_status
cs_method_occlusion (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  const cs_tensor *x = ctx->input;
  int64_t c = x->shape.dim[1], h = x->shape.dim[2], w = x->shape.dim[3], per = c * h * w;
  int64_t k = ctx->p->window, stride = ctx->p->stride;
  if (k > h || k > w)
    return cs_error_set (err, CS_ERR_ARGUMENT, "occlusion window %lld is larger than the %lldx%lld input",
                         (long long) k, (long long) h, (long long) w);
  int64_t ny = window_positions (h, k, stride, NULL), nx = window_positions (w, k, stride, NULL);
  int64_t count = ny * nx;

  cs_score s;
  cs_tensor x0 = { 0 }, sum = { 0 }, hits = { 0 };
  float *scores = NULL;
  int64_t *pos = NULL;
  cs_status st = cs_score_init (&s, ctx, err);
  if (st != CS_OK)
    return st;
  cs_shape hw = cs_shape_make (2, (int64_t[]) { h, w });
  /* positions (as floats' worth of int64) and one score per batch sample share one block */
  float *block = cs_alloc_floats (2 * (ny + nx) + ctx->batch + 1);
  if (block == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld occlusion windows", (long long) count);
  else
    {
      pos = (int64_t *) block;
      scores = block + 2 * (ny + nx);
    }
  if (st == CS_OK)
    st = cs_baseline_make (ctx->p->baseline, x, ctx->p->seed, &x0, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&sum, &hw, err);
  if (st == CS_OK)
    st = cs_tensor_alloc (&hits, &hw, err);
  int64_t *py = pos, *px = pos + ny;
  if (st == CS_OK)
    {
      window_positions (h, k, stride, py);
      window_positions (w, k, stride, px);
    }

  /* the score of the unoccluded input */
  float clean = 0;
  if (st == CS_OK)
    st = cs_score_forward (&s, ctx->exec, x, &clean, err);
  out->passes = st == CS_OK ? 1 : 0;

  for (int64_t done = 0; st == CS_OK && done < count;)
    {
      if (cs_progress_cancelled (ctx->progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      int32_t n = (int32_t) (count - done < ctx->batch ? count - done : ctx->batch);
      cs_tensor batch = cs_score_batch (&s, n);
      for (int32_t i = 0; i < n; i++)
        {
          float *sample = batch.data + i * per;
          int64_t y0 = py[(done + i) / nx], x0c = px[(done + i) % nx];
          memcpy (sample, x->data, (size_t) per * sizeof (float));
          for (int64_t ch = 0; ch < c; ch++)
            for (int64_t y = y0; y < y0 + k; y++)
              memcpy (sample + (ch * h + y) * w + x0c, x0.data + (ch * h + y) * w + x0c,
                      (size_t) k * sizeof (float));
        }
      st = cs_score_forward (&s, ctx->exec, &batch, scores, err);
      if (st != CS_OK)
        break;
      for (int32_t i = 0; i < n; i++)
        {
          int64_t y0 = py[(done + i) / nx], x0c = px[(done + i) % nx];
          float drop = clean - scores[i];
          for (int64_t y = y0; y < y0 + k; y++)
            for (int64_t xx = x0c; xx < x0c + k; xx++)
              {
                sum.data[y * w + xx] += drop;
                hits.data[y * w + xx] += 1.0f;
              }
        }
      done += n;
      out->passes += n;
      cs_progress_report (ctx->progress, (double) done / (double) count);
    }

  if (st == CS_OK)
    {
      for (int64_t i = 0; i < h * w; i++)
        sum.data[i] = hits.data[i] > 0 ? sum.data[i] / hits.data[i] : 0.0f;
      out->raw = sum;
      sum = (cs_tensor) { 0 };
      st = cs_tensor_copy (&out->map, &out->raw, err);
      if (st == CS_OK)
        cs_map_normalize_minmax (&out->map);
      else
        cs_tensor_free (&out->raw);
    }
  out->raw_is_signed = true;
  cs_tensor_free (&sum);
  cs_tensor_free (&hits);
  cs_tensor_free (&x0);
  cs_free_floats (block);
  cs_score_free (&s);
  return st;
}
