/* Occlusion (Zeiler & Fergus 2014): slide a K x K patch of the baseline over the input at
 * stride S (plus a last position flush with the border) and record how much the score drops.
 * raw (H,W) = mean drop over the windows covering each pixel (0 where none does); the map is
 * raw min-max normalised, like a CAM map. Windows go through the network in batches, a coarse
 * grid of them first (every m-th position along each axis, m·S <= K so that the coarse windows
 * still cover every pixel), then the rest: the mean over the windows done so far is the
 * progressive estimate. Each window's drop is kept and the final sums run in raster order, so
 * the result does not depend on the visiting order. Each batch of windows runs by incremental
 * inference (incremental.c: only what a window changes is recomputed) unless p->full_forwards
 * asks for full forwards or no layer gains from it; both give the same drops to float rounding. */
#include <stdlib.h>
#include <string.h>

#include "attribution/baseline.h"
#include "attribution/incremental.h"
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

/* The visiting order of the ny x nx windows (raster index iy*nx+ix): the coarse grid first. */
static void
coarse_first (int64_t ny, int64_t nx, int64_t k, int64_t stride, int64_t *order)
{
  int64_t m = 1;
  while (2 * m * stride <= k)
    m *= 2;
  int64_t n = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int64_t iy = 0; iy < ny; iy++)
      for (int64_t ix = 0; ix < nx; ix++)
        {
          bool coarse = (iy % m == 0 || iy == ny - 1) && (ix % m == 0 || ix == nx - 1);
          if (coarse == (pass == 0))
            order[n++] = iy * nx + ix;
        }
}

typedef struct {
  int64_t h, w, k, nx;
  const int64_t *py, *px;
} windows;

/* Adds window `index`'s drop to every pixel it covers. */
static void
add_window (const windows *g, int64_t index, float drop, float *sum, float *hits)
{
  int64_t y0 = g->py[index / g->nx], x0 = g->px[index % g->nx];
  for (int64_t y = y0; y < y0 + g->k; y++)
    for (int64_t x = x0; x < x0 + g->k; x++)
      {
        sum[y * g->w + x] += drop;
        hits[y * g->w + x] += 1.0f;
      }
}

/* raw = sum / hits (0 where no window covers); map = raw min-max normalised over the covered
 * pixels, 0 where no window covers yet (an estimate shows only what it knows). Once every
 * pixel is covered this is exactly cs_map_normalize_minmax. */
static void
mean_drop (const float *sum, const float *hits, int64_t n, float *raw, float *map)
{
  float lo = 0, hi = 0;
  bool any = false;
  for (int64_t i = 0; i < n; i++)
    {
      raw[i] = hits[i] > 0 ? sum[i] / hits[i] : 0.0f;
      if (hits[i] > 0)
        {
          lo = !any || raw[i] < lo ? raw[i] : lo;
          hi = !any || raw[i] > hi ? raw[i] : hi;
          any = true;
        }
    }
  double range = (double) hi - (double) lo;
  for (int64_t i = 0; i < n; i++)
    map[i] = hits[i] > 0 && range > 0 ? (float) (((double) raw[i] - lo) / range) : 0.0f;
}

/* Occludes windows order[done .. done+n) of x with x0 into the batch (n samples). */
static void
fill_occluded (const windows *g, const cs_tensor *x, const cs_tensor *x0, const int64_t *order,
               int32_t n, float *batch)
{
  int64_t c = x->shape.dim[1], per = c * g->h * g->w;
  for (int32_t i = 0; i < n; i++)
    {
      float *sample = batch + i * per;
      int64_t y0 = g->py[order[i] / g->nx], xo = g->px[order[i] % g->nx];
      memcpy (sample, x->data, (size_t) per * sizeof (float));
      for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = y0; y < y0 + g->k; y++)
          memcpy (sample + (ch * g->h + y) * g->w + xo, x0->data + (ch * g->h + y) * g->w + xo,
                  (size_t) g->k * sizeof (float));
    }
}

/* The scores of windows order[0..n): incrementally when inc is set, else full forwards. */
static cs_status
score_windows (const cs_method_ctx *ctx, cs_score *s, cs_incremental *inc, const windows *g,
               const cs_tensor *x0, const int64_t *order, int32_t n, float *scores, cs_error *err)
{
  if (inc != NULL)
    {
      const cs_tensor *v = NULL;
      cs_status st = cs_incremental_run (inc, order, n, &v, err);
      if (st == CS_OK)
        cs_score_read (s, v, n, scores);
      return st;
    }
  cs_tensor batch = cs_score_batch (s, n);
  fill_occluded (g, ctx->input, x0, order, n, batch.data);
  return cs_score_forward (s, ctx->exec, &batch, scores, err);
}

/* Incremental inference over every window (raster index i at (py[i / nx], px[i % nx])), or
 * *inc NULL when full forwards are asked for or gain nothing. After the clean forward. */
static cs_status
plan_incremental (const cs_method_ctx *ctx, const cs_score *s, const windows *g, int64_t count,
                  const cs_tensor *x0, cs_incremental **inc, cs_error *err)
{
  *inc = NULL;
  if (ctx->p->full_forwards)
    return CS_OK;
  int64_t *wy = malloc ((size_t) (2 * count) * sizeof *wy);
  if (wy == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld occlusion windows", (long long) count);
  for (int64_t i = 0; i < count; i++)
    {
      wy[i] = g->py[i / g->nx];
      wy[count + i] = g->px[i % g->nx];
    }
  cs_incremental_windows w = { .input = ctx->input, .baseline = x0, .k = g->k, .wy = wy,
                               .wx = wy + count, .count = count };
  cs_status st = cs_incremental_new (ctx->exec, s->node, &w, ctx->batch, true, inc, err);
  free (wy);
  return st;
}

typedef struct {
  cs_incremental *inc;
  const int64_t *order;
} probe;

static cs_status
probe_incremental (void *user_data, int32_t n, cs_error *err)
{
  probe *p = user_data;
  const cs_tensor *v;
  return cs_incremental_run (p->inc, p->order, n, &v, err);
}

/* The measured fastest batch of windows (at most the window count). */
static cs_status
fastest_batch (const cs_method_ctx *ctx, const cs_score *s, cs_incremental *inc, const windows *g,
               int64_t count, const int64_t *order, int32_t *batch, cs_error *err)
{
  cs_method_ctx c = *ctx;
  c.batch = count < ctx->batch ? (int32_t) count : ctx->batch;
  if (inc == NULL)
    return cs_method_fastest_forward_batch (&c, s->node, batch, err);
  probe p = { .inc = inc, .order = order };
  return cs_method_fastest_batch (&c, CS_BATCH_INCREMENTAL, s->node,
                                  g->k * 100000 + (g->nx > 1 ? g->px[1] - g->px[0] : 0),
                                  probe_incremental, &p, batch, err);
}

cs_status
cs_method_occlusion (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  const cs_tensor *x = ctx->input;
  int64_t h = x->shape.dim[2], w = x->shape.dim[3];
  int64_t k = ctx->p->window, stride = ctx->p->stride;
  if (k > h || k > w)
    return cs_error_set (err, CS_ERR_ARGUMENT, "occlusion window %lld is larger than the %lldx%lld input",
                         (long long) k, (long long) h, (long long) w);
  int64_t ny = window_positions (h, k, stride, NULL), nx = window_positions (w, k, stride, NULL);
  int64_t count = ny * nx;

  cs_score s;
  cs_tensor x0 = { 0 }, sum = { 0 }, hits = { 0 }, raw = { 0 }, map = { 0 };
  cs_status st = cs_score_init (&s, ctx, err);
  if (st != CS_OK)
    return st;
  cs_shape hw = cs_shape_make (2, (int64_t[]) { h, w });
  int64_t *pos = malloc ((size_t) (ny + nx) * sizeof *pos);
  int64_t *order = malloc ((size_t) count * sizeof *order);
  float *drops = cs_alloc_floats (count);
  float *scores = cs_alloc_floats (ctx->batch);
  if (pos == NULL || order == NULL || drops == NULL || scores == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld occlusion windows", (long long) count);
  if (st == CS_OK)
    st = cs_baseline_make (ctx->p->baseline, x, ctx->p->seed, &x0, err);
  cs_tensor *planes[] = { &sum, &hits, &raw, &map };
  for (int i = 0; i < 4 && st == CS_OK; i++)
    st = cs_tensor_alloc (planes[i], &hw, err);
  windows g = { .h = h, .w = w, .k = k, .nx = nx, .py = pos, .px = pos + ny };
  if (st == CS_OK)
    {
      window_positions (h, k, stride, pos);
      window_positions (w, k, stride, pos + ny);
      coarse_first (ny, nx, k, stride, order);
    }

  /* the score of the unoccluded input */
  float clean = 0;
  s.reuse_forward = cs_method_input_forwarded (ctx);
  if (st == CS_OK)
    st = cs_score_forward (&s, ctx->exec, x, &clean, err);
  out->passes = st == CS_OK ? 1 : 0;
  cs_incremental *inc = NULL;
  if (st == CS_OK)
    st = plan_incremental (ctx, &s, &g, count, &x0, &inc, err);
  int32_t batch = ctx->batch;
  if (st == CS_OK)
    st = fastest_batch (ctx, &s, inc, &g, count, order, &batch, err);

  /* "refine further": a budget-stopped run of the same windows continues where it stopped */
  int64_t done = 0;
  const cs_resume_work *saved = st == CS_OK ? cs_method_resume_find (ctx) : NULL;
  if (saved != NULL && saved->total == count && saved->n_floats == count && saved->done < count)
    {
      memcpy (drops, saved->floats, (size_t) count * sizeof (float));
      done = saved->done;
      out->passes = saved->passes;
      for (int64_t i = 0; i < done; i++)
        add_window (&g, order[i], drops[order[i]], sum.data, hits.data);
    }
  while (st == CS_OK && done < count)
    {
      if (cs_progress_cancelled (ctx->progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      int32_t n = (int32_t) (count - done < batch ? count - done : batch);
      st = score_windows (ctx, &s, inc, &g, &x0, order + done, n, scores, err);
      if (st != CS_OK)
        break;
      for (int32_t i = 0; i < n; i++)
        {
          drops[order[done + i]] = clean - scores[i];
          add_window (&g, order[done + i], clean - scores[i], sum.data, hits.data);
        }
      done += n;
      out->passes += n;
      cs_progress_report (ctx->progress, (double) done / (double) count);
      if (done < count && cs_method_wants_partial (ctx))
        {
          mean_drop (sum.data, hits.data, h * w, raw.data, map.data);
          cs_method_partial (ctx, &map, (double) done / (double) count);
        }
      if (done < count && cs_method_out_of_budget (ctx))
        break;
    }

  cs_resume_work state = { .done = done, .total = count, .passes = out->passes, .floats = drops,
                           .n_floats = count };
  st = cs_method_resume_end (ctx, st, &state, err);
  if (st == CS_OK && done == count)
    {
      /* the sums again in raster order: the same floats whatever order the windows ran in */
      memset (sum.data, 0, (size_t) (h * w) * sizeof (float));
      memset (hits.data, 0, (size_t) (h * w) * sizeof (float));
      for (int64_t i = 0; i < count; i++)
        add_window (&g, i, drops[i], sum.data, hits.data);
    }
  if (st == CS_OK)
    {
      mean_drop (sum.data, hits.data, h * w, raw.data, map.data);
    }
  out->raw_is_signed = true;
  st = cs_method_hand_over (st, &raw, &map, (double) done / (double) (count > 0 ? count : 1), out);
  for (int i = 0; i < 4; i++)
    cs_tensor_free (planes[i]);
  cs_tensor_free (&x0);
  cs_incremental_free (inc);
  free (pos);
  free (order);
  cs_free_floats (drops);
  cs_free_floats (scores);
  cs_score_free (&s);
  return st;
}
