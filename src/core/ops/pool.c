/* 2-D max and average pooling over [N, C, H, W]: asymmetric pads, dilation (max), ceil mode,
 * count_include_pad (average), with PyTorch's output-size and divisor rules. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "graph/ops.h"
#include "ops/pool_avx512.h"
#include "ops/sgemm_avx512.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Window evaluations below which an OpenMP team costs more than the loop. */
#define PAR_MIN 65536
/* Output columns the vectorised max loop works on at a time (stack buffers). */
#define ROW_BLOCK 256

#ifdef __SSE2__
/* One step of the scan order on four windows: v (at indices iv) is taken where it is greater
 * than the best so far, or NaN. */
static inline void
take_if_greater (__m128 v, __m128i iv, __m128 *best, __m128i *idx)
{
  __m128 take = _mm_or_ps (_mm_cmpgt_ps (v, *best), _mm_cmpunord_ps (v, v));
  *best = _mm_or_ps (_mm_and_ps (take, v), _mm_andnot_ps (take, *best));
  __m128i ti = _mm_castps_si128 (take);
  *idx = _mm_or_si128 (_mm_and_si128 (ti, iv), _mm_andnot_si128 (ti, *idx));
}
#endif

typedef struct {
  int64_t planes, h, w, oh, ow;
  int64_t kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
} pool_geom;

/* Output length along one axis; 0 when the window does not fit the padded input. With ceil
 * mode the last window must start inside the input or the leading pad, else it is dropped
 * (PyTorch's and ONNX's rule). */
static int64_t
pool_out_len (int64_t in, int64_t k, int64_t s, int64_t pad_before, int64_t pad_after, int64_t d,
              bool ceil_mode)
{
  int64_t span = in + pad_before + pad_after - (d * (k - 1) + 1);
  if (span < 0)
    return 0;
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + pad_before)
    o--;
  return o;
}

static void
pool_geom_make (pool_geom *g, const cs_window_attrs *a, const cs_shape *x, bool dilated)
{
  g->planes = x->dim[0] * x->dim[1];
  g->h = x->dim[2];
  g->w = x->dim[3];
  g->kh = a->kernel[0];
  g->kw = a->kernel[1];
  g->sh = a->stride[0];
  g->sw = a->stride[1];
  g->pt = a->pad[0];
  g->pl = a->pad[1];
  g->pb = a->pad[2];
  g->pr = a->pad[3];
  g->dh = dilated ? a->dilation[0] : 1;
  g->dw = dilated ? a->dilation[1] : 1;
  g->oh = pool_out_len (g->h, g->kh, g->sh, g->pt, g->pb, g->dh, a->ceil_mode);
  g->ow = pool_out_len (g->w, g->kw, g->sw, g->pl, g->pr, g->dw, a->ceil_mode);
}

static cs_status
pool_infer_common (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err,
                   bool is_max)
{
  const cs_window_attrs *a = &node->attrs.window;
  const cs_shape *x = in[0];
  const char *what = is_max ? "maxpool2d" : "avgpool2d";
  char buf[128];
  if (x->ndim != 4)
    return cs_error_set (err, CS_ERR_SHAPE, "%s needs a 4-D [N, C, H, W] input, got %s", what,
                         cs_shape_format (x, buf, sizeof buf));
  for (int i = 0; i < 2; i++)
    {
      if (a->kernel[i] < 1 || a->stride[i] < 1)
        return cs_error_set (err, CS_ERR_ARGUMENT, "%s kernel %dx%d / stride %dx%d must be positive",
                             what, a->kernel[0], a->kernel[1], a->stride[0], a->stride[1]);
      if (is_max && a->dilation[i] < 1)
        return cs_error_set (err, CS_ERR_ARGUMENT, "%s dilation %dx%d must be positive", what,
                             a->dilation[0], a->dilation[1]);
      if (!is_max && a->dilation[i] != 1 && a->dilation[i] != 0)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "avgpool2d with dilation %dx%d",
                             a->dilation[0], a->dilation[1]);
    }
  for (int i = 0; i < 4; i++)
    if (a->pad[i] < 0)
      return cs_error_set (err, CS_ERR_ARGUMENT, "%s pads {%d, %d, %d, %d} must not be negative",
                           what, a->pad[0], a->pad[1], a->pad[2], a->pad[3]);
  pool_geom g;
  pool_geom_make (&g, a, x, is_max);
  if (g.oh < 1 || g.ow < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "%s window %lldx%lld (dilation %lldx%lld) does not fit "
                         "the padded input %s", what, (long long) g.kh, (long long) g.kw,
                         (long long) g.dh, (long long) g.dw, cs_shape_format (x, buf, sizeof buf));
  *out = cs_shape_4d (x->dim[0], x->dim[1], g.oh, g.ow);
  return CS_OK;
}

static cs_status
maxpool_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  return pool_infer_common (node, in, out, err, true);
}

static cs_status
avgpool_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  return pool_infer_common (node, in, out, err, false);
}

/* The forward's output must have the shape the geometry gives for this input. */
static bool
pool_call_ok (const cs_op_call *call, const pool_geom *g)
{
  const cs_shape *o = &call->out->shape;
  return call->in[0]->shape.ndim == 4 && o->ndim == 4 && o->dim[0] * o->dim[1] == g->planes
         && o->dim[2] == g->oh && o->dim[3] == g->ow;
}

/* Argmax indices (within the plane, -1 for a window with no input element) are kept in aux
 * as int32, one per output element. */
static int64_t
maxpool_aux_size (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n)
{
  int64_t numel = cs_shape_numel (out);
  if (numel <= 0 || out->dim[0] <= 0)
    return 0;
  return numel / out->dim[0] * (n > out->dim[0] ? n : out->dim[0]);
}

/* Max of the window at (y0, x0), any window: bounds checked per element. */
static void
max_window (const pool_geom *g, const float *xp, int64_t y0, int64_t x0, float *out, int32_t *at)
{
  float best = 0.0f;
  int64_t best_at = -1;
  for (int64_t i = 0; i < g->kh; i++)
    {
      int64_t yy = y0 + i * g->dh;
      if (yy < 0 || yy >= g->h)
        continue;
      for (int64_t j = 0; j < g->kw; j++)
        {
          int64_t xx = x0 + j * g->dw;
          if (xx < 0 || xx >= g->w)
            continue;
          float v = xp[yy * g->w + xx];
          /* strict >: the first maximum in scan order wins ties; NaN propagates as in PyTorch */
          if (best_at < 0 || v > best || isnan (v))
            {
              best = v;
              best_at = yy * g->w + xx;
            }
        }
    }
  /* A window that only covers padding (possible with large pads or dilation) has no input:
   * -inf as in PyTorch, and no gradient. */
  *out = best_at < 0 ? -INFINITY : best;
  *at = (int32_t) best_at;
}

/* Windows of n consecutive output columns that lie inside the input, starting at src0 (plane
 * offset base): a branch-free pass over the window per step of its scan order (same tie/NaN
 * rule as max_window) that vectorises across columns. Inlined with sw a constant 2, the common
 * stride, so that the strided loads vectorise too (ResNet-18's 3x3/2 pool: 0.69-0.96 -> 0.61-0.76
 * ms, per-operator median of 30 at 2 threads). */
static inline __attribute__ ((always_inline)) void
max_block (const pool_geom *g, const float *src0, int32_t base, int64_t n, const int64_t sw,
           float *yr, int32_t *ar)
{
  float best[ROW_BLOCK];
  int32_t at[ROW_BLOCK];
#pragma omp simd
  for (int64_t k = 0; k < n; k++)
    {
      best[k] = src0[k * sw];
      at[k] = base + (int32_t) (k * sw);
    }
  for (int64_t i = 0; i < g->kh; i++)
    for (int64_t j = (i == 0); j < g->kw; j++)
      {
        const int64_t off = i * g->dh * g->w + j * g->dw;
        const float *src = src0 + off;
        const int32_t at0 = base + (int32_t) off;
#pragma omp simd
        for (int64_t k = 0; k < n; k++)
          {
            const float v = src[k * sw];
            const bool take = v > best[k] || v != v;
            best[k] = take ? v : best[k];
            at[k] = take ? at0 + (int32_t) (k * sw) : at[k];
          }
      }
  memcpy (yr, best, (size_t) n * sizeof *best);
  memcpy (ar, at, (size_t) n * sizeof *at);
}

#ifdef __SSE2__
/* The even columns x[0], x[2], x[4], x[6] of a row, its odd ones, and the even ones one step
 * on (x[2] .. x[8]): the three columns of four 3-wide windows at stride 2. Reads x[0] .. x[8]
 * only, which the fourth window covers. */
static inline void
split_3_s2 (const float *x, __m128 col[3])
{
  __m128 a = _mm_loadu_ps (x), b = _mm_loadu_ps (x + 4), c = _mm_load_ss (x + 8);
  col[0] = _mm_shuffle_ps (a, b, _MM_SHUFFLE (2, 0, 2, 0));
  col[1] = _mm_shuffle_ps (a, b, _MM_SHUFFLE (3, 1, 3, 1));
  __m128 t = _mm_shuffle_ps (col[0], c, _MM_SHUFFLE (0, 0, 3, 3));      /* x6 x6 x8 x8 */
  col[2] = _mm_shuffle_ps (col[0], t, _MM_SHUFFLE (2, 0, 2, 1));       /* x2 x4 x6 x8 */
}

/* Four 3x3 windows at stride 2 side by side, top-left at r0 (index at0 in the plane): the scan
 * order of max_block (a value is taken when greater, or NaN) as masked blends. */
static inline void
max_four_3x3_s2 (const float *r0, int32_t at0, int32_t w, float *y, int32_t *at)
{
  const __m128i base = _mm_add_epi32 (_mm_set1_epi32 (at0), _mm_set_epi32 (6, 4, 2, 0));
  __m128 best = _mm_setzero_ps ();
  __m128i idx = base;
  for (int i = 0; i < 3; i++)
    {
      __m128 col[3];
      split_3_s2 (r0 + i * w, col);
      if (i == 0)
        best = col[0];
      for (int j = i == 0; j < 3; j++)
        take_if_greater (col[j], _mm_add_epi32 (base, _mm_set1_epi32 (i * w + j)), &best, &idx);
    }
  _mm_storeu_ps (y, best);
  _mm_storeu_si128 ((__m128i *) at, idx);
}
#endif

/* n >= 4 windows of 3x3 at stride 2, undilated, inside the input (the stem pool of ResNets,
 * 6 % of ResNet-18's forward through max_block), four at a time, the last four overlapping
 * the ones before (written twice, the same values). False where SSE2 is not there. */
static bool
max_row_3x3_s2 (const pool_geom *g, const float *top, int32_t base, int64_t n, float *yr,
                int32_t *ar)
{
#ifdef __SSE2__
  if (g->kh != 3 || g->kw != 3 || g->sw != 2 || g->dh != 1 || g->dw != 1 || n < 4)
    return false;
  /* The AVX-512 row where the CPU has it: ResNet-18's stem pool, 2 threads, 0.58 -> 0.29 ms
   * per forward (per-operator mean of 200). */
  if (n >= 16 && cs_sgemm_avx512_available ())
    {
      cs_max_row_3x3_s2_avx512 (top, base, (int32_t) g->w, n, yr, ar);
      return true;
    }
  for (int64_t ox = 0; ox < n; ox += 4)
    {
      int64_t o = ox + 4 <= n ? ox : n - 4;
      max_four_3x3_s2 (top + 2 * o, base + (int32_t) (2 * o), (int32_t) g->w, yr + o, ar + o);
    }
  return true;
#else
  (void) g, (void) top, (void) base, (void) n, (void) yr, (void) ar;
  return false;
#endif
}

/* One output row: the windows that lie inside the input by max_block, the edges by max_window;
 * measured as 11 % of a ResNet-18 forward with the checked loop everywhere. */
static void
max_row (const pool_geom *g, const float *xp, int64_t oy, float *yr, int32_t *ar)
{
  const int64_t y0 = oy * g->sh - g->pt;
  int64_t lo = (g->pl + g->sw - 1) / g->sw;                          /* first x0 >= 0 */
  int64_t last = g->w - 1 - (g->kw - 1) * g->dw + g->pl;             /* x0 + span <= w - 1 */
  int64_t hi = last < 0 ? 0 : last / g->sw + 1;
  bool rows_inside = y0 >= 0 && y0 + (g->kh - 1) * g->dh < g->h;
  if (!rows_inside || hi > g->ow)
    hi = g->ow;
  if (!rows_inside || lo > hi)
    lo = hi;
  for (int64_t ox = 0; ox < lo; ox++)
    max_window (g, xp, y0, ox * g->sw - g->pl, &yr[ox], &ar[ox]);
  const float *top = xp + y0 * g->w - g->pl;
  const int32_t base = (int32_t) (y0 * g->w - g->pl);
  const int64_t sw = g->sw;
  if (hi > lo
      && max_row_3x3_s2 (g, top + lo * sw, base + (int32_t) (lo * sw), hi - lo, yr + lo, ar + lo))
    lo = hi;
  for (int64_t b0 = lo; b0 < hi; b0 += ROW_BLOCK)
    {
      const int64_t n = hi - b0 < ROW_BLOCK ? hi - b0 : ROW_BLOCK;
      const int32_t at = base + (int32_t) (b0 * sw);
      if (sw == 2)
        max_block (g, top + b0 * 2, at, n, 2, yr + b0, ar + b0);
      else
        max_block (g, top + b0 * sw, at, n, sw, yr + b0, ar + b0);
    }
  for (int64_t ox = hi > lo ? hi : lo; ox < g->ow; ox++)
    max_window (g, xp, y0, ox * g->sw - g->pl, &yr[ox], &ar[ox]);
}

/* 2x2 windows at stride 2 inside the input, the pool of most small CNNs, one plane at a time:
 * the same scan order and tie/NaN rule as max_row, without its per-row set-up (measured as a
 * quarter of the example history's forward on the demo CNN with max_row alone). */
static bool
is_2x2_s2 (const pool_geom *g)
{
  return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 && g->pt == 0
         && g->pl == 0 && 2 * g->oh <= g->h && 2 * g->ow <= g->w;
}

#ifdef __SSE2__
/* Four windows side by side: the even and odd columns of both rows split apart by shuffles,
 * then the scan order of max_row (a value is taken when greater, or NaN) as masked blends. */
static inline void
max_four_2x2 (const float *r0, const float *r1, int32_t at0, int32_t w, float *y, int32_t *at)
{
  __m128 a0 = _mm_loadu_ps (r0), a1 = _mm_loadu_ps (r0 + 4);
  __m128 b0 = _mm_loadu_ps (r1), b1 = _mm_loadu_ps (r1 + 4);
  __m128 v[4] = { _mm_shuffle_ps (a0, a1, _MM_SHUFFLE (2, 0, 2, 0)), _mm_shuffle_ps (a0, a1, _MM_SHUFFLE (3, 1, 3, 1)),
                  _mm_shuffle_ps (b0, b1, _MM_SHUFFLE (2, 0, 2, 0)), _mm_shuffle_ps (b0, b1, _MM_SHUFFLE (3, 1, 3, 1)) };
  const int32_t offset[4] = { 0, 1, w, w + 1 };
  __m128i base = _mm_add_epi32 (_mm_set1_epi32 (at0), _mm_set_epi32 (6, 4, 2, 0));
  __m128 best = v[0];
  __m128i idx = base;
  for (int k = 1; k < 4; k++)
    take_if_greater (v[k], _mm_add_epi32 (base, _mm_set1_epi32 (offset[k])), &best, &idx);
  _mm_storeu_ps (y, best);
  _mm_storeu_si128 ((__m128i *) at, idx);
}
#endif

static void
max_plane_2x2 (const pool_geom *g, const float *xp, float *yp, int32_t *ap)
{
  const int64_t w = g->w, ow = g->ow;
  for (int64_t oy = 0; oy < g->oh; oy++)
    {
      const float *r0 = xp + 2 * oy * w, *r1 = r0 + w;
      const int32_t base = (int32_t) (2 * oy * w);
      float *yr = yp + oy * ow;
      int32_t *ar = ap + oy * ow;
#ifdef __SSE2__
      /* Rows are short in small CNNs (7 or 14 windows), too short for the compiler's vector
       * loop: four windows at a time, the last four overlapping the ones before (written
       * twice, the same values). */
      if (ow >= 4)
        {
          for (int64_t ox = 0; ox < ow; ox += 4)
            {
              int64_t o = ox + 4 <= ow ? ox : ow - 4;
              max_four_2x2 (r0 + 2 * o, r1 + 2 * o, base + (int32_t) (2 * o), (int32_t) w, yr + o, ar + o);
            }
          continue;
        }
#endif
#pragma omp simd
      for (int64_t ox = 0; ox < ow; ox++)
        {
          const int32_t at0 = base + (int32_t) (2 * ox);
          float best = r0[2 * ox];
          int32_t at = at0;
          const float v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
          bool take = v1 > best || v1 != v1;
          best = take ? v1 : best;
          at = take ? at0 + 1 : at;
          take = v2 > best || v2 != v2;
          best = take ? v2 : best;
          at = take ? at0 + (int32_t) w : at;
          take = v3 > best || v3 != v3;
          best = take ? v3 : best;
          at = take ? at0 + (int32_t) w + 1 : at;
          yr[ox] = best;
          ar[ox] = at;
        }
    }
}

static cs_status
maxpool_forward (const cs_op_call *call)
{
  pool_geom g;
  pool_geom_make (&g, &call->node->attrs.window, &call->in[0]->shape, true);
  if (!pool_call_ok (call, &g))
    return CS_ERR_SHAPE;
  int64_t n_out = g.planes * g.oh * g.ow;
  if (call->aux == NULL || cs_tensor_numel (call->aux) < n_out)
    return CS_ERR_SHAPE;
  const float *x = call->in[0]->data;
  float *y = call->out->data;
  int32_t *arg = (int32_t *) call->aux->data;
  if (is_2x2_s2 (&g))
    {
#pragma omp parallel for if (n_out * 4 >= PAR_MIN) schedule (static)
      for (int64_t p = 0; p < g.planes; p++)
        max_plane_2x2 (&g, x + p * g.h * g.w, y + p * g.oh * g.ow, arg + p * g.oh * g.ow);
      return CS_OK;
    }
#pragma omp parallel for if (n_out * g.kh * g.kw >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < g.planes; p++)
    for (int64_t oy = 0; oy < g.oh; oy++)
      max_row (&g, x + p * g.h * g.w, oy, y + (p * g.oh + oy) * g.ow, arg + (p * g.oh + oy) * g.ow);
  return CS_OK;
}

static cs_status
maxpool_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  pool_geom g;
  pool_geom_make (&g, &call->node->attrs.window, &call->in[0]->shape, true);
  int64_t n_out = g.planes * g.oh * g.ow;
  if (cs_tensor_numel (call->dout) != n_out || call->aux == NULL
      || cs_tensor_numel (call->aux) < n_out)
    return CS_ERR_SHAPE;
  const float *dy = call->dout->data;
  const int32_t *arg = (const int32_t *) call->aux->data;
  float *dx = call->din[0]->data;
  int64_t plane = g.h * g.w;
  const bool fresh = cs_din_fresh (call, 0);
  /* Each plane scatters into itself only, so planes run in parallel without races. A fresh
   * plane is zeroed just before, while it is about to be in cache anyway. */
#pragma omp parallel for if (n_out >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < g.planes; p++)
    {
      const float *dyp = dy + p * g.oh * g.ow;
      const int32_t *ap = arg + p * g.oh * g.ow;
      float *dxp = dx + p * plane;
      if (fresh)
        memset (dxp, 0, (size_t) plane * sizeof (float));
      for (int64_t k = 0; k < g.oh * g.ow; k++)
        if (ap[k] >= 0 && ap[k] < plane)
          dxp[ap[k]] += dyp[k];
    }
  return CS_OK;
}

/* One average-pool window: the clipped input rows/cols and the divisor. PyTorch's rule: the
 * window is first clipped to the padded extent (input plus pads; ceil mode can run past it),
 * which counts pads when count_include_pad; otherwise only input elements count. */
typedef struct {
  int64_t y0, y1, x0, x1;
  float inv_div;
} avg_window;

static bool
avg_window_get (const pool_geom *g, bool include_pad, int64_t oy, int64_t ox, avg_window *w)
{
  int64_t ys = oy * g->sh - g->pt, xs = ox * g->sw - g->pl;
  int64_t ye = ys + g->kh, xe = xs + g->kw;
  if (ye > g->h + g->pb)
    ye = g->h + g->pb;
  if (xe > g->w + g->pr)
    xe = g->w + g->pr;
  int64_t padded = (ye - ys) * (xe - xs);
  w->y0 = ys > 0 ? ys : 0;
  w->x0 = xs > 0 ? xs : 0;
  w->y1 = ye < g->h ? ye : g->h;
  w->x1 = xe < g->w ? xe : g->w;
  if (w->y0 >= w->y1 || w->x0 >= w->x1)
    return false; /* only padding: output 0, no gradient */
  int64_t div = include_pad ? padded : (w->y1 - w->y0) * (w->x1 - w->x0);
  w->inv_div = 1.0f / (float) div;
  return true;
}

static cs_status
avgpool_forward (const cs_op_call *call)
{
  const cs_window_attrs *a = &call->node->attrs.window;
  pool_geom g;
  pool_geom_make (&g, a, &call->in[0]->shape, false);
  if (!pool_call_ok (call, &g))
    return CS_ERR_SHAPE;
  const float *x = call->in[0]->data;
  float *y = call->out->data;
  int64_t n_out = g.planes * g.oh * g.ow;
#pragma omp parallel for if (n_out * g.kh * g.kw >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < g.planes; p++)
    {
      const float *xp = x + p * g.h * g.w;
      float *yp = y + p * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; oy++)
        for (int64_t ox = 0; ox < g.ow; ox++)
          {
            avg_window w;
            float s = 0.0f;
            if (avg_window_get (&g, a->count_include_pad, oy, ox, &w))
              {
                for (int64_t yy = w.y0; yy < w.y1; yy++)
                  for (int64_t xx = w.x0; xx < w.x1; xx++)
                    s += xp[yy * g.w + xx];
                s *= w.inv_div;
              }
            yp[oy * g.ow + ox] = s;
          }
    }
  return CS_OK;
}

static cs_status
avgpool_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  const cs_window_attrs *a = &call->node->attrs.window;
  pool_geom g;
  pool_geom_make (&g, a, &call->in[0]->shape, false);
  int64_t n_out = g.planes * g.oh * g.ow;
  if (cs_tensor_numel (call->dout) != n_out)
    return CS_ERR_SHAPE;
  const float *dy = call->dout->data;
  float *dx = call->din[0]->data;
#pragma omp parallel for if (n_out * g.kh * g.kw >= PAR_MIN) schedule (static)
  for (int64_t p = 0; p < g.planes; p++)
    {
      const float *dyp = dy + p * g.oh * g.ow;
      float *dxp = dx + p * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; oy++)
        for (int64_t ox = 0; ox < g.ow; ox++)
          {
            avg_window w;
            if (!avg_window_get (&g, a->count_include_pad, oy, ox, &w))
              continue;
            float d = dyp[oy * g.ow + ox] * w.inv_div;
            for (int64_t yy = w.y0; yy < w.y1; yy++)
              for (int64_t xx = w.x0; xx < w.x1; xx++)
                dxp[yy * g.w + xx] += d;
          }
    }
  return CS_OK;
}

/* One comparison (max) or addition (average) per window element, plus the division. */
static int64_t
maxpool_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  const cs_window_attrs *a = &node->attrs.window;
  int64_t n = cs_shape_numel (out);
  return n > 0 ? n * ((int64_t) a->kernel[0] * a->kernel[1]) : 0;
}

static int64_t
avgpool_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  const cs_window_attrs *a = &node->attrs.window;
  int64_t n = cs_shape_numel (out);
  return n > 0 ? n * ((int64_t) a->kernel[0] * a->kernel[1] + 1) : 0;
}

const cs_op_info cs_op_maxpool_info = {
  .name = "maxpool2d",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = maxpool_infer,
  .forward = maxpool_forward,
  .backward = maxpool_backward,
  .aux_size = maxpool_aux_size,
  .flops = maxpool_flops,
  .fresh_din = true,
};

const cs_op_info cs_op_avgpool_info = {
  .name = "avgpool2d",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = avgpool_infer,
  .forward = avgpool_forward,
  .backward = avgpool_backward,
  .flops = avgpool_flops,
};
