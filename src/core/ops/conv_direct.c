/* Direct conv2d forward for first layers: a zero-padded copy of the input, split by column
 * phase so that a strided row of taps is one contiguous vector load, and blocks of output
 * channels x pixels accumulated in registers over every tap. */
#include "ops/conv_direct.h"
#include "ops/conv_direct-private.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

cs_conv_direct_isa
cs_conv_direct_isa_of_cpu (void)
{
#if defined(__x86_64__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return CS_CONV_DIRECT_AVX512;
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return CS_CONV_DIRECT_AVX2;
#endif
  return CS_CONV_DIRECT_NONE;
}

bool
cs_conv_direct_fits (const cs_conv_geom *g, int64_t out_channels)
{
  return out_channels >= 1 && out_channels <= CS_DIRECT_MAX_OUT_CHANNELS && g->dilation_h == 1
         && g->dilation_w == 1 && (g->stride_w == 1 || g->stride_w == 2) && g->stride_h >= 1
         && g->channels <= CS_DIRECT_MAX_CHANNELS
         && g->channels * g->kernel_h * g->kernel_w <= CS_DIRECT_MAX_TAPS && g->out_w >= 1
         && g->out_h >= 1 && cs_conv_direct_isa_of_cpu () != CS_CONV_DIRECT_NONE;
}

cs_direct_layout
cs_direct_layout_of (const cs_conv_geom *g, int64_t out_channels, int64_t batch)
{
  cs_direct_layout L;
  L.rows = (g->out_h - 1) * g->stride_h + g->kernel_h;
  L.phases = g->stride_w;
  L.blocks = (g->out_w + CS_DIRECT_LANES - 1) / CS_DIRECT_LANES;
  L.len = L.blocks * CS_DIRECT_LANES + (g->kernel_w - 1) / g->stride_w;
  L.sample = g->channels * L.rows * L.phases * L.len;
  L.taps = g->channels * g->kernel_h * g->kernel_w;
  L.co_pad = (out_channels + CS_DIRECT_LANES - 1) / CS_DIRECT_LANES * CS_DIRECT_LANES;
  L.taps_pad = (L.taps + CS_DIRECT_LANES - 1) / CS_DIRECT_LANES * CS_DIRECT_LANES;
  L.chunk = CS_DIRECT_CHUNK_BUDGET / (L.sample > 0 ? L.sample : 1);
  if (L.chunk > batch)
    L.chunk = batch;
  if (L.chunk < 1)
    L.chunk = 1;
  return L;
}

int64_t
cs_conv_direct_workspace (const cs_conv_geom *g, int64_t out_channels, int64_t batch)
{
  cs_direct_layout L = cs_direct_layout_of (g, out_channels, batch);
  const int64_t forward = L.taps * L.co_pad, grad = out_channels * L.taps_pad;
  return (forward > grad ? forward : grad) + L.chunk * L.sample;
}

/* One padded row (all phases) of channel plane xp. */
static void
pad_row (const cs_conv_geom *g, const cs_direct_layout *L, const float *xp, int64_t r, float *dst)
{
  const int64_t ih = r - g->pad_top, sw = g->stride_w;
  if (ih < 0 || ih >= g->height)
    {
      memset (dst, 0, (size_t) (L->phases * L->len) * sizeof (float));
      return;
    }
  const float *src = xp + ih * g->width;
  for (int64_t p = 0; p < L->phases; p++)
    for (int64_t j = 0; j < L->len; j++)
      {
        const int64_t iw = j * sw + p - g->pad_left;
        dst[p * L->len + j] = iw >= 0 && iw < g->width ? src[iw] : 0.0f;
      }
}

/* What one output row of one block of output channels needs. */
typedef struct {
  const cs_conv_geom *g;
  const cs_direct_layout *L;
  const float *pad;          /* this sample's padded input */
  const float *wt;           /* transposed weights */
  const float *bias;         /* or NULL */
  int64_t out_channels;
  const int64_t *tap_offset; /* per kj: phase * len + kj / stride_w */
  float *y;                  /* this sample's output */
} row_job;

#if defined(__x86_64__)
/* Output row oh of channels [m0, m0 + 16) by 16-pixel blocks: 16 accumulators of 16 pixels. */
__attribute__ ((target ("avx512f"))) static void
row_avx512 (const row_job *job, int64_t oh, int64_t m0)
{
  const cs_conv_geom *g = job->g;
  const cs_direct_layout *L = job->L;
  const int64_t OW = g->out_w, plane = g->out_h * OW, KH = g->kernel_h, KW = g->kernel_w;
  const int64_t mcount = job->out_channels - m0 < 16 ? job->out_channels - m0 : 16;
  for (int64_t ob = 0; ob < L->blocks; ob++)
    {
      __m512 acc[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; j++)
        acc[j] = _mm512_set1_ps (job->bias != NULL && j < mcount ? job->bias[m0 + j] : 0.0f);
      const float *wk = job->wt + m0;
      for (int64_t c = 0; c < g->channels; c++)
        for (int64_t ki = 0; ki < KH; ki++)
          {
            const float *row = job->pad + cs_direct_at (L, c, oh * g->stride_h + ki, 0, ob * 16);
            for (int64_t kj = 0; kj < KW; kj++, wk += L->co_pad)
              {
                const __m512 v = _mm512_loadu_ps (row + job->tap_offset[kj]);
#pragma GCC unroll 16
                for (int j = 0; j < 16; j++)
                  acc[j] = _mm512_fmadd_ps (_mm512_set1_ps (wk[j]), v, acc[j]);
              }
          }
      const int64_t n = OW - ob * 16 < 16 ? OW - ob * 16 : 16;
      const __mmask16 mask = (__mmask16) ((1u << n) - 1u);
      float *out = job->y + m0 * plane + oh * OW + ob * 16;
#pragma GCC unroll 16
      for (int j = 0; j < 16; j++)
        if (j < mcount)
          _mm512_mask_storeu_ps (out + j * plane, mask, acc[j]);
    }
}

/* The same with 8 channels of 8 pixels. */
__attribute__ ((target ("avx2,fma"))) static void
row_avx2 (const row_job *job, int64_t oh, int64_t m0)
{
  const cs_conv_geom *g = job->g;
  const cs_direct_layout *L = job->L;
  const int64_t OW = g->out_w, plane = g->out_h * OW, KH = g->kernel_h, KW = g->kernel_w;
  const int64_t mcount = job->out_channels - m0 < 8 ? job->out_channels - m0 : 8;
  const int64_t blocks = (OW + 7) / 8;
  for (int64_t ob = 0; ob < blocks; ob++)
    {
      __m256 acc[8];
#pragma GCC unroll 8
      for (int j = 0; j < 8; j++)
        acc[j] = _mm256_set1_ps (job->bias != NULL && j < mcount ? job->bias[m0 + j] : 0.0f);
      const float *wk = job->wt + m0;
      for (int64_t c = 0; c < g->channels; c++)
        for (int64_t ki = 0; ki < KH; ki++)
          {
            const float *row = job->pad + cs_direct_at (L, c, oh * g->stride_h + ki, 0, ob * 8);
            for (int64_t kj = 0; kj < KW; kj++, wk += L->co_pad)
              {
                const __m256 v = _mm256_loadu_ps (row + job->tap_offset[kj]);
#pragma GCC unroll 8
                for (int j = 0; j < 8; j++)
                  acc[j] = _mm256_fmadd_ps (_mm256_set1_ps (wk[j]), v, acc[j]);
              }
          }
      const int64_t n = OW - ob * 8 < 8 ? OW - ob * 8 : 8;
      const __m256i mask = _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) n),
                                               _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
      float *out = job->y + m0 * plane + oh * OW + ob * 8;
#pragma GCC unroll 8
      for (int j = 0; j < 8; j++)
        if (j < mcount)
          _mm256_maskstore_ps (out + j * plane, mask, acc[j]);
    }
}
#endif

/* One output row of one block of channels by the given kernel (which this CPU has: the path
 * is never taken otherwise). */
static void
row (cs_conv_direct_isa isa, const row_job *job, int64_t oh, int64_t m0)
{
#if defined(__x86_64__)
  if (isa == CS_CONV_DIRECT_AVX512)
    row_avx512 (job, oh, m0);
  else
    row_avx2 (job, oh, m0);
#else
  (void) isa, (void) job, (void) oh, (void) m0;
#endif
}

void
cs_conv_direct_forward (cs_conv_direct_isa isa, const cs_conv_geom *g, int64_t out_channels,
                        int64_t batch, const float *x, const float *w, const float *b, float *y,
                        float *work)
{
  const cs_direct_layout L = cs_direct_layout_of (g, out_channels, batch);
  const int64_t C = g->channels, HW = g->height * g->width, M = out_channels;
  const int64_t plane = g->out_h * g->out_w;
  const int64_t co_block = isa == CS_CONV_DIRECT_AVX512 ? 16 : 8;
  const int64_t co_blocks = (M + co_block - 1) / co_block;
  float *wt = work, *pad = work + L.taps * L.co_pad;

  memset (wt, 0, (size_t) (L.taps * L.co_pad) * sizeof (float));
  for (int64_t m = 0; m < M; m++)
    for (int64_t t = 0; t < L.taps; t++)
      wt[t * L.co_pad + m] = w[m * L.taps + t];
  int64_t tap_offset[CS_DIRECT_MAX_TAPS];
  for (int64_t kj = 0; kj < g->kernel_w; kj++)
    tap_offset[kj] = cs_direct_at (&L, 0, 0, kj % g->stride_w, kj / g->stride_w);

  for (int64_t n0 = 0; n0 < batch; n0 += L.chunk)
    {
      const int64_t cnt = batch - n0 < L.chunk ? batch - n0 : L.chunk;
      const bool parallel = cnt * plane * M * L.taps > CS_DIRECT_PARALLEL_MIN_MACS;
#pragma omp parallel if (parallel)
      {
#pragma omp for collapse(3) schedule(static)
        for (int64_t s = 0; s < cnt; s++)
          for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < L.rows; r++)
              pad_row (g, &L, x + (n0 + s) * C * HW + c * HW, r,
                       pad + s * L.sample + cs_direct_at (&L, c, r, 0, 0));
#pragma omp for collapse(3) schedule(static)
        for (int64_t s = 0; s < cnt; s++)
          for (int64_t oh = 0; oh < g->out_h; oh++)
            for (int64_t cb = 0; cb < co_blocks; cb++)
              {
                row_job job = { g, &L, pad + s * L.sample, wt, b, M, tap_offset,
                                y + (n0 + s) * M * plane };
                row (isa, &job, oh, cb * co_block);
              }
      }
    }
}
