/* Input gradient of the direct first-layer conv: per output row and block of pixels, the
 * gradient of 16 taps at a time (8 with AVX2) summed over output channels in registers, added
 * into a padded map laid out like the forward's input, which is then cropped into dx. */
#include "ops/conv_direct-private.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
  const cs_conv_geom *g;
  const cs_direct_layout *L;
  const float *dy;           /* this sample's [out_channels, out_h, out_w] */
  const float *wp;           /* [out_channels][taps_pad], zero beyond taps */
  int64_t out_channels;
  const int64_t *tap_at;     /* per tap: its entry in the padded map for output pixel (0, 0) */
  float *map;                /* this sample's padded map */
} grad_job;

/* dy's rows are a plane apart (49 KB in ResNet's stem): 64 channels' vectors at that stride
 * fall into 4 of L1's 64 sets and evict each other at every tap group. So a row's blocks
 * [ob0, ob1) are first packed as [block][channel][16 pixels], zero past the row's end. */
#define PACK_FLOATS (CS_DIRECT_LANES * CS_DIRECT_MAX_OUT_CHANNELS)

static void
pack_row (const grad_job *job, int64_t oh, int64_t ob0, int64_t ob1, float *pack)
{
  const int64_t OW = job->g->out_w, plane = job->g->out_h * OW, M = job->out_channels;
  for (int64_t m = 0; m < M; m++)
    {
      const float *src = job->dy + m * plane + oh * OW;
      for (int64_t ob = ob0; ob < ob1; ob++)
        {
          float *dst = pack + ((ob - ob0) * M + m) * CS_DIRECT_LANES;
          const int64_t n = OW - ob * CS_DIRECT_LANES < CS_DIRECT_LANES ? OW - ob * CS_DIRECT_LANES
                                                                      : CS_DIRECT_LANES;
          /* A constant size for whole blocks: an inline copy, not a call. */
          if (n == CS_DIRECT_LANES)
            memcpy (dst, src + ob * CS_DIRECT_LANES, CS_DIRECT_LANES * sizeof (float));
          else
            for (int64_t i = 0; i < CS_DIRECT_LANES; i++)
              dst[i] = i < n ? src[ob * CS_DIRECT_LANES + i] : 0.0f;
        }
    }
}

#if defined(__x86_64__)
/* Adds output row oh's share for the packed blocks [ob0, ob1) to the map, 16 taps x 16
 * pixels at a time. */
__attribute__ ((target ("avx512f"))) static void
grad_row_avx512 (const grad_job *job, int64_t oh, int64_t ob0, int64_t ob1, const float *pack)
{
  const cs_direct_layout *L = job->L;
  const int64_t M = job->out_channels;
  const int64_t row_at = cs_direct_at (L, 0, oh * job->g->stride_h, 0, 0);
  for (int64_t t0 = 0; t0 < L->taps; t0 += 16)
    for (int64_t ob = ob0; ob < ob1; ob++)
      {
        __m512 acc[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
          acc[j] = _mm512_setzero_ps ();
        const float *wr = job->wp + t0, *d = pack + (ob - ob0) * M * 16;
        for (int64_t m = 0; m < M; m++, wr += L->taps_pad)
          {
            const __m512 v = _mm512_loadu_ps (d + m * 16);
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++)
              acc[j] = _mm512_fmadd_ps (_mm512_set1_ps (wr[j]), v, acc[j]);
          }
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
          if (t0 + j < L->taps)
            {
              float *p = job->map + job->tap_at[t0 + j] + row_at + ob * 16;
              _mm512_storeu_ps (p, _mm512_add_ps (_mm512_loadu_ps (p), acc[j]));
            }
      }
}

/* The same, 8 taps x 8 pixels (half a packed block) at a time. */
__attribute__ ((target ("avx2,fma"))) static void
grad_row_avx2 (const grad_job *job, int64_t oh, int64_t ob0, int64_t ob1, const float *pack)
{
  const cs_direct_layout *L = job->L;
  const int64_t M = job->out_channels;
  const int64_t row_at = cs_direct_at (L, 0, oh * job->g->stride_h, 0, 0);
  for (int64_t t0 = 0; t0 < L->taps; t0 += 8)
    for (int64_t half = 2 * ob0; half < 2 * ob1; half++)
      {
        __m256 acc[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
          acc[j] = _mm256_setzero_ps ();
        const float *wr = job->wp + t0, *d = pack + (half / 2 - ob0) * M * 16 + half % 2 * 8;
        for (int64_t m = 0; m < M; m++, wr += L->taps_pad)
          {
            const __m256 v = _mm256_loadu_ps (d + m * 16);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
              acc[j] = _mm256_fmadd_ps (_mm256_set1_ps (wr[j]), v, acc[j]);
          }
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
          if (t0 + j < L->taps)
            {
              float *p = job->map + job->tap_at[t0 + j] + row_at + half * 8;
              _mm256_storeu_ps (p, _mm256_add_ps (_mm256_loadu_ps (p), acc[j]));
            }
      }
}
#endif

/* Adds output row oh's share to the map, a packed piece of the row at a time. */
static void
grad_row (cs_conv_direct_isa isa, const grad_job *job, int64_t oh)
{
  float pack[PACK_FLOATS] __attribute__ ((aligned (64)));
  const int64_t blocks = job->L->blocks;
  const int64_t piece = PACK_FLOATS / (CS_DIRECT_LANES * job->out_channels);
  for (int64_t ob0 = 0; ob0 < blocks; ob0 += piece)
    {
      const int64_t ob1 = ob0 + piece < blocks ? ob0 + piece : blocks;
      pack_row (job, oh, ob0, ob1, pack);
#if defined(__x86_64__)
      if (isa == CS_CONV_DIRECT_AVX512)
        grad_row_avx512 (job, oh, ob0, ob1, pack);
      else
        grad_row_avx2 (job, oh, ob0, ob1, pack);
#else
      (void) isa;
#endif
    }
}

/* dx's row ih of channel plane dxp (=, or +=) from the padded map. */
static void
crop_row (const cs_conv_geom *g, const cs_direct_layout *L, const float *map, int64_t c,
          int64_t ih, float *dxp, bool accumulate)
{
  const int64_t r = ih + g->pad_top, sw = g->stride_w, W = g->width;
  float *out = dxp + ih * W;
  /* Rows and columns past the last window get no gradient. */
  if (r < 0 || r >= L->rows)
    {
      if (!accumulate)
        memset (out, 0, (size_t) W * sizeof (float));
      return;
    }
  for (int64_t p = 0; p < sw; p++)
    {
      /* Input columns iw = j * sw + p - pad_left, for the entries j of phase p. */
      const float *src = map + cs_direct_at (L, c, r, p, 0);
      int64_t j = 0;
      while (j * sw + p - g->pad_left < 0)
        j++;
      for (int64_t iw = j * sw + p - g->pad_left; iw < W; iw += sw, j++)
        {
          const float v = j < L->len ? src[j] : 0.0f;
          out[iw] = accumulate ? out[iw] + v : v;
        }
    }
}

void
cs_conv_direct_input_grad (cs_conv_direct_isa isa, const cs_conv_geom *g, int64_t out_channels,
                           int64_t batch, const float *dy, const float *w, float *dx,
                           bool accumulate, float *work)
{
  const cs_direct_layout L = cs_direct_layout_of (g, out_channels, batch);
  const int64_t C = g->channels, HW = g->height * g->width, M = out_channels;
  const int64_t plane = g->out_h * g->out_w, KH = g->kernel_h, KW = g->kernel_w;
  float *wp = work, *map = work + M * L.taps_pad;

  memset (wp, 0, (size_t) (M * L.taps_pad) * sizeof (float));
  for (int64_t m = 0; m < M; m++)
    memcpy (wp + m * L.taps_pad, w + m * L.taps, (size_t) L.taps * sizeof (float));
  int64_t tap_at[CS_DIRECT_MAX_TAPS];
  for (int64_t c = 0; c < C; c++)
    for (int64_t ki = 0; ki < KH; ki++)
      for (int64_t kj = 0; kj < KW; kj++)
        tap_at[(c * KH + ki) * KW + kj]
          = cs_direct_at (&L, c, ki, kj % g->stride_w, kj / g->stride_w);

  /* Output rows in blocks of `span`: block b adds into map rows [b*span*sh, (b+1)*span*sh +
   * KH - sh), which block b + 2 starts after. So the even blocks run in parallel, then the odd
   * ones, with no two threads adding into one row, and each entry sums in one order whatever
   * the number of threads. */
  const int64_t sh = g->stride_h;
  const int64_t span = KH > sh ? (KH - sh + sh - 1) / sh : 1;
  const int64_t spans = (g->out_h + span - 1) / span;
  for (int64_t n0 = 0; n0 < batch; n0 += L.chunk)
    {
      const int64_t cnt = batch - n0 < L.chunk ? batch - n0 : L.chunk;
      const bool parallel = cnt * plane * M * L.taps > CS_DIRECT_PARALLEL_MIN_MACS;
#pragma omp parallel if (parallel)
      {
#pragma omp for schedule(static)
        for (int64_t s = 0; s < cnt; s++)
          memset (map + s * L.sample, 0, (size_t) L.sample * sizeof (float));
        for (int64_t parity = 0; parity < 2; parity++)
          {
#pragma omp for collapse(2) schedule(static)
            for (int64_t s = 0; s < cnt; s++)
              for (int64_t k = 0; k < (spans - parity + 1) / 2; k++)
                {
                  const int64_t b = 2 * k + parity;
                  const int64_t end = (b + 1) * span < g->out_h ? (b + 1) * span : g->out_h;
                  grad_job job = { g, &L, dy + (n0 + s) * M * plane, wp, M, tap_at,
                                   map + s * L.sample };
                  for (int64_t oh = b * span; oh < end; oh++)
                    grad_row (isa, &job, oh);
                }
          }
#pragma omp for collapse(3) schedule(static)
        for (int64_t s = 0; s < cnt; s++)
          for (int64_t c = 0; c < C; c++)
            for (int64_t ih = 0; ih < g->height; ih++)
              crop_row (g, &L, map + s * L.sample, c, ih, dx + (n0 + s) * C * HW + c * HW,
                        accumulate);
      }
    }
}
