/* im2col / col2im for NCHW convolutions, parallel over patch rows (im2col) and over planes or
 * rows of the input gradient (col2im). */
#include "ops/im2col.h"

#include <omp.h>
#include <stdbool.h>
#include <string.h>

/* Below this many patch elements a parallel region costs more than it saves. */
#define PARALLEL_MIN_WORK 32768

/* The output columns ow whose input column ow*stride + off falls inside [0, width). */
static inline void
valid_range (int64_t width, int64_t out_w, int64_t stride, int64_t off, int64_t *lo, int64_t *hi)
{
  int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t h = width - 1 - off < 0 ? 0 : (width - 1 - off) / stride + 1;
  if (h > out_w)
    h = out_w;
  if (l > h)
    l = h;
  *lo = l;
  *hi = h;
}

/* One patch row (channel plane xp, kernel offset ki, kj) of one sample. Inlined with sw a
 * constant 2 as well, so that strided convolutions' gathers vectorise. */
static inline __attribute__ ((always_inline)) void
im2col_row (const cs_conv_geom *g, const float *xp, int64_t ki, int64_t kj, const int64_t sw,
            float *row)
{
  const int64_t H = g->height, W = g->width, OH = g->out_h, OW = g->out_w, sh = g->stride_h;
  const int64_t off_w = kj * g->dilation_w - g->pad_left;
  int64_t lo, hi;
  valid_range (W, OW, sw, off_w, &lo, &hi);
  for (int64_t oh = 0; oh < OH; oh++)
    {
      float *r = row + oh * OW;
      const int64_t ih = oh * sh + ki * g->dilation_h - g->pad_top;
      if (ih < 0 || ih >= H)
        {
          memset (r, 0, (size_t) OW * sizeof (float));
          continue;
        }
      const float *src = xp + ih * W;
      for (int64_t ow = 0; ow < lo; ow++)
        r[ow] = 0.0f;
      if (sw == 1)
        {
          if (hi > lo)
            memcpy (r + lo, src + lo + off_w, (size_t) (hi - lo) * sizeof (float));
        }
      else
#pragma omp simd
        for (int64_t ow = lo; ow < hi; ow++)
          r[ow] = src[ow * sw + off_w];
      for (int64_t ow = hi; ow < OW; ow++)
        r[ow] = 0.0f;
    }
}

/* The same patch row when the conv keeps the width (stride 1, out_w == width: "same"
 * padding): every valid output position p reads the input at p + a constant offset, so the
 * row is one copy of the whole plane, with the columns that fall into the padding (which the
 * copy filled from the neighbouring input row) zeroed after it. Short rows (7-28 floats in
 * small CNNs) each cost a memcpy call otherwise. */
typedef struct {
  int64_t offset;           /* input index - output index, for every valid position */
  int64_t row_lo, row_hi;   /* the output rows that read inside the input */
  int64_t col_lo, col_hi;   /* the output columns that read inside the input */
  int64_t first, last;      /* [first, last): from the first valid position to the last */
} same_width_span;

/* Whether the conv keeps the width at stride 1, the geometry the spans below are for. */
static inline bool
keeps_width (const cs_conv_geom *g)
{
  return g->stride_w == 1 && g->stride_h == 1 && g->out_w == g->width;
}

/* Only where keeps_width. False when the patch row reads padding only. */
static inline bool
same_width_span_of (const cs_conv_geom *g, int64_t ki, int64_t kj, same_width_span *sp)
{
  const int64_t H = g->height, W = g->width, OH = g->out_h;
  const int64_t off_h = ki * g->dilation_h - g->pad_top, off_w = kj * g->dilation_w - g->pad_left;
  valid_range (W, W, 1, off_w, &sp->col_lo, &sp->col_hi);
  sp->row_lo = off_h < 0 ? -off_h : 0;
  sp->row_hi = H - off_h < OH ? H - off_h : OH;
  sp->offset = off_h * W + off_w;
  sp->first = sp->row_lo * W + sp->col_lo;
  sp->last = (sp->row_hi - 1) * W + sp->col_hi;
  return sp->row_hi > sp->row_lo && sp->col_hi > sp->col_lo;
}

/* Zeros the entries of the valid rows whose columns read padding: a column at a time (a
 * strided store), since a row's run is mostly one float and gcc turns a loop over a row's
 * run into a memset call per row. */
static inline void
zero_padding_columns (float *row, int64_t W, const same_width_span *sp)
{
  for (int64_t ow = 0; ow < W; ow++)
    {
      if (ow == sp->col_lo)
        ow = sp->col_hi;
      if (ow >= W)
        break;
      for (int64_t oh = sp->row_lo; oh < sp->row_hi; oh++)
        row[oh * W + ow] = 0.0f;
    }
}

static void
im2col_row_same_width (const cs_conv_geom *g, const float *xp, int64_t ki, int64_t kj, float *row)
{
  const int64_t W = g->width, OH = g->out_h;
  same_width_span sp;
  if (!same_width_span_of (g, ki, kj, &sp))
    {
      memset (row, 0, (size_t) (OH * W) * sizeof (float));
      return;
    }
  if (sp.row_lo > 0)
    memset (row, 0, (size_t) (sp.row_lo * W) * sizeof (float));
  if (sp.row_hi < OH)
    memset (row + sp.row_hi * W, 0, (size_t) ((OH - sp.row_hi) * W) * sizeof (float));
  /* first + offset and last - 1 + offset both lie inside the plane. */
  memcpy (row + sp.first, xp + sp.first + sp.offset, (size_t) (sp.last - sp.first) * sizeof (float));
  zero_padding_columns (row, W, &sp);
}

/* Parallel over (sample, channel, kernel row): a first layer has only 3 channels for 2 or more
 * threads. */
void
cs_im2col (const cs_conv_geom *g, const float *x, int64_t sample_stride, int64_t count,
           float *col, int64_t ld)
{
  const int64_t C = g->channels, H = g->height, W = g->width;
  const int64_t KH = g->kernel_h, KW = g->kernel_w, P = g->out_h * g->out_w;
  const int64_t sw = g->stride_w;
  const int64_t work = count * C * KH * KW * P;
  const bool same_width = keeps_width (g);

#pragma omp parallel for collapse(3) schedule(static) if (work > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < count; s++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t ki = 0; ki < KH; ki++)
        {
          const float *xp = x + s * sample_stride + c * H * W;
          for (int64_t kj = 0; kj < KW; kj++)
            {
              float *row = col + ((c * KH + ki) * KW + kj) * ld + s * P;
              if (same_width)
                im2col_row_same_width (g, xp, ki, kj, row);
              else if (sw == 2)
                im2col_row (g, xp, ki, kj, 2, row);
              else
                im2col_row (g, xp, ki, kj, sw, row);
            }
        }
}

/* dst[ow * sw + off_w] += r[ow] over the valid output columns [lo, hi) of one patch row. */
static inline void
add_patch_row (float *dst, const float *r, int64_t lo, int64_t hi, int64_t sw, int64_t off_w)
{
  if (sw == 1)
#pragma omp simd
    for (int64_t ow = lo; ow < hi; ow++)
      dst[ow + off_w] += r[ow];
  else
#pragma omp simd
    for (int64_t ow = lo; ow < hi; ow++)
      dst[ow * sw + off_w] += r[ow];
}

/* The adjoint of im2col_row_same_width: the row's padding entries are zeroed (they are
 * dropped, and this plane's thread alone owns the row), then the whole valid span is added in
 * one pass. The zeros land on the input positions the span wraps onto, and x + 0 is x (dx
 * starts at +0, so never holds -0), so the sums keep their bits. */
static void
add_row_same_width (const cs_conv_geom *g, float *row, int64_t ki, int64_t kj, float *xp)
{
  same_width_span sp;
  if (!same_width_span_of (g, ki, kj, &sp))
    return;
  zero_padding_columns (row, g->width, &sp);
  /* i + offset stays inside the plane (offset may be negative: no pointer before it). */
#pragma omp simd
  for (int64_t i = sp.first; i < sp.last; i++)
    xp[i + sp.offset] += row[i];
}

/* Scatters each patch row into its plane: (sample, channel) planes over the threads, each
 * written by one thread only. */
static void
col2im_by_plane (const cs_conv_geom *g, float *col, int64_t ld, int64_t count, float *dx,
                 int64_t sample_stride)
{
  const int64_t C = g->channels, H = g->height, W = g->width;
  const int64_t KH = g->kernel_h, KW = g->kernel_w;
  const int64_t OH = g->out_h, OW = g->out_w, P = OH * OW;
  const int64_t sh = g->stride_h, sw = g->stride_w;
  const int64_t work = count * C * KH * KW * P;
  const bool same_width = keeps_width (g);

  /* Each (sample, channel) plane of dx is written by one thread only: no races. */
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < count; s++)
    for (int64_t c = 0; c < C; c++)
      {
        float *xp = dx + s * sample_stride + c * H * W;
        for (int64_t ki = 0; ki < KH; ki++)
          for (int64_t kj = 0; kj < KW; kj++)
            {
              float *row = col + ((c * KH + ki) * KW + kj) * ld + s * P;
              if (same_width)
                {
                  add_row_same_width (g, row, ki, kj, xp);
                  continue;
                }
              const int64_t off_w = kj * g->dilation_w - g->pad_left;
              int64_t lo, hi;
              valid_range (W, OW, sw, off_w, &lo, &hi);
              for (int64_t oh = 0; oh < OH; oh++)
                {
                  const int64_t ih = oh * sh + ki * g->dilation_h - g->pad_top;
                  if (ih < 0 || ih >= H)
                    continue;
                  const float *r = row + oh * OW;
                  float *dst = xp + ih * W;
                  add_patch_row (dst, r, lo, hi, sw, off_w);
                }
            }
      }
}

/* Gathers into each row of dx the patch rows that touch it, so that threads split the rows
 * without races. Each element sums its contributions in the same (ki, kj) order as the scatter,
 * so both give the same bits. */
static void
col2im_by_row (const cs_conv_geom *g, const float *col, int64_t ld, int64_t count, float *dx,
               int64_t sample_stride)
{
  const int64_t C = g->channels, H = g->height, W = g->width;
  const int64_t KH = g->kernel_h, KW = g->kernel_w;
  const int64_t OH = g->out_h, OW = g->out_w, P = OH * OW;
  const int64_t sh = g->stride_h, sw = g->stride_w;
  const int64_t work = count * C * KH * KW * P;

#pragma omp parallel for collapse(3) schedule(static) if (work > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < count; s++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t ih = 0; ih < H; ih++)
        {
          float *dst = dx + s * sample_stride + c * H * W + ih * W;
          for (int64_t ki = 0; ki < KH; ki++)
            {
              const int64_t t = ih + g->pad_top - ki * g->dilation_h;
              if (t < 0 || t % sh != 0 || t / sh >= OH)
                continue;
              const int64_t oh = t / sh;
              for (int64_t kj = 0; kj < KW; kj++)
                {
                  const float *r = col + ((c * KH + ki) * KW + kj) * ld + s * P + oh * OW;
                  const int64_t off_w = kj * g->dilation_w - g->pad_left;
                  int64_t lo, hi;
                  valid_range (W, OW, sw, off_w, &lo, &hi);
                  add_patch_row (dst, r, lo, hi, sw, off_w);
                }
            }
        }
}

/* By rows where there are too few planes for the threads (a first layer's 3 channels left one
 * of 2 threads half idle in conv1's input gradient: 2.46-2.71 -> 2.24-2.35 ms at batch 1); by
 * planes otherwise, where the scatter's set-up per patch row is cheaper (small feature maps in
 * training). */
void
cs_col2im (const cs_conv_geom *g, float *col, int64_t ld, int64_t count,
           float *dx, int64_t sample_stride)
{
  if (count * g->channels < 4 * (int64_t) omp_get_max_threads ())
    col2im_by_row (g, col, ld, count, dx, sample_stride);
  else
    col2im_by_plane (g, col, ld, count, dx, sample_stride);
}
