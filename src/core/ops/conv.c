/* conv2d: shape inference, forward and backward (im2col + OpenBLAS GEMM; Winograd for 3x3;
 * direct loops for depthwise convolutions and first layers), workspace and FLOPs. */
#include "ops/blas.h"
#include <string.h>

#include "graph/ops.h"
#include "ops/conv_direct.h"
#include "ops/im2col.h"
#include "ops/winograd.h"

/* GEMMs with fewer columns than this waste most of OpenBLAS's kernel: small feature maps are
 * batched, several samples side by side in one patch matrix. */
#define TARGET_COLUMNS 1024
/* ... but one chunk's patch matrix stays below this many floats (unless one sample needs more). */
#define CHUNK_BUDGET ((int64_t) 1 << 23)
/* ... and, in the forward, holds at least this many floats when the samples allow: a first
 * layer's patch matrix has few rows (9 for one 3x3 channel), and 1024 columns of it made GEMMs
 * too small to split between threads, one chunk after another (the demo CNN's conv1 at batch
 * 64, 2 threads: 0.44-0.51 -> 0.36-0.38 ms). Not for pointwise convs, which read one sample's
 * input in place rather than copy it. Not in the backward: there the weight gradient's GEMM
 * (16 x 9 from a 1024-long inner dimension) splits over neither, and longer inner dimensions
 * ran it at half the speed (0.54-0.57 -> 1.05-1.13 ms). */
#define CHUNK_MIN_FLOATS ((int64_t) 1 << 18)
#define PARALLEL_MIN_WORK 32768
/* Winograd saves GEMM work in proportion to in * out channels but adds transforms in
 * proportion to in + out: below this in*out/(in+out) the transforms cost more than they save.
 * Measured: the demo model's 16->32 and 32->64 layers (10.7, 21.3) train 17 % faster by
 * im2col, DenseNet-121's 128->32 layers (25.6) run 10-25 % slower by im2col, ResNet's 64->64
 * and wider (32 and up) gain. */
#define WINOGRAD_MIN_CHANNEL_RATIO 24
/* Winograd pays off only over enough output positions (batch * out_h * out_w): the transforms
 * and the 16 small GEMMs cost more than direct im2col below. With the transformed weights
 * kept between calls, ResNet-18's 14x14 layer (196 positions) wins at batch 1 too: the whole
 * forward 41.2-43.2 -> 38.3-39.7 ms of CPU at one thread (bench-exec). Its 7x7 layer (49)
 * does not. */
#define WINOGRAD_MIN_POSITIONS 128
/* See conv_backward. */
#define DIRECT_GRAD_MIN_MACS ((int64_t) 1 << 20)

/* Everything forward, backward and workspace() must agree on for one call. */
typedef struct {
  cs_conv_geom geom;         /* whole input: all channels */
  int64_t batch, out_channels, groups;
  int64_t in_per_group, out_per_group;
  int64_t plane;             /* out_h * out_w */
  int64_t k_group;           /* patch rows per group: in_per_group * kernel_h * kernel_w */
  bool depthwise;            /* one input channel per group: direct loops, no GEMM */
  bool pointwise;            /* 1x1, stride 1, no padding: the input is its own patch matrix */
  bool winograd;             /* 3x3, stride 1, undilated, ungrouped: forward and dx by F(2x2, 3x3) */
  bool direct;               /* a first layer (few input channels): forward, dx by conv_direct */
  int64_t chunk;             /* samples per patch matrix */
} conv_plan;

static int64_t
out_size (int64_t in, int64_t pad_a, int64_t pad_b, int64_t kernel, int64_t stride, int64_t dil)
{
  int64_t span = in + pad_a + pad_b - dil * (kernel - 1) - 1;
  if (span < 0)
    return 0;
  return span / stride + 1;
}

static void
plan_make (conv_plan *p, const cs_window_attrs *a, const cs_shape *x, const cs_shape *w, int64_t n,
           bool forward)
{
  memset (p, 0, sizeof *p);
  cs_conv_geom *g = &p->geom;
  g->channels = x->dim[1];
  g->height = x->dim[2];
  g->width = x->dim[3];
  g->kernel_h = w->dim[2];
  g->kernel_w = w->dim[3];
  g->stride_h = a->stride[0];
  g->stride_w = a->stride[1];
  g->pad_top = a->pad[0];
  g->pad_left = a->pad[1];
  g->dilation_h = a->dilation[0];
  g->dilation_w = a->dilation[1];
  g->out_h = out_size (g->height, a->pad[0], a->pad[2], g->kernel_h, g->stride_h, g->dilation_h);
  g->out_w = out_size (g->width, a->pad[1], a->pad[3], g->kernel_w, g->stride_w, g->dilation_w);
  p->batch = n;
  p->out_channels = w->dim[0];
  p->groups = a->groups;
  p->in_per_group = g->channels / p->groups;
  p->out_per_group = p->out_channels / p->groups;
  p->plane = g->out_h * g->out_w;
  p->k_group = p->in_per_group * g->kernel_h * g->kernel_w;
  p->depthwise = p->groups > 1 && p->in_per_group == 1;
  p->pointwise = g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1
                 && a->pad[0] == 0 && a->pad[1] == 0 && a->pad[2] == 0 && a->pad[3] == 0;
  p->winograd = g->kernel_h == 3 && g->kernel_w == 3 && g->stride_h == 1 && g->stride_w == 1
                && g->dilation_h == 1 && g->dilation_w == 1 && p->groups == 1
                && n * g->out_h * g->out_w >= WINOGRAD_MIN_POSITIONS
                && g->channels * p->out_channels
                     >= WINOGRAD_MIN_CHANNEL_RATIO * (g->channels + p->out_channels);
  p->direct = p->groups == 1 && cs_conv_direct_fits (g, p->out_channels);
  int64_t chunk = (TARGET_COLUMNS + p->plane - 1) / (p->plane > 0 ? p->plane : 1);
  int64_t rows = p->k_group * p->groups;
  int64_t per_sample = rows * p->plane;
  if (forward && !p->pointwise && per_sample > 0 && chunk * per_sample < CHUNK_MIN_FLOATS)
    chunk = CHUNK_MIN_FLOATS / per_sample;
  if (per_sample > 0 && chunk * per_sample > CHUNK_BUDGET)
    chunk = CHUNK_BUDGET / per_sample;
  if (chunk > n)
    chunk = n;
  if (chunk < 1)
    chunk = 1;
  p->chunk = chunk;
}

/* Pointwise convs of one sample at a time read the input in place. */
static bool
plan_needs_col (const conv_plan *p)
{
  return !p->depthwise && !(p->pointwise && p->chunk == 1);
}

/* Floats of the patch matrix, and of the staging area that regroups [N, M, P] outputs as
 * [M, N*P] when several samples share one GEMM. */
static int64_t
plan_col_size (const conv_plan *p)
{
  return plan_needs_col (p) ? p->k_group * p->groups * p->chunk * p->plane : 0;
}

static int64_t
plan_stage_size (const conv_plan *p)
{
  return !p->depthwise && p->chunk > 1 ? p->out_channels * p->chunk * p->plane : 0;
}

/* The Winograd forward conv, or (transposed) the conv that gives the input gradient: dy
 * convolved with the flipped, transposed kernel, padded by 2 - pad. Both read the weights as
 * the forward transformed them. */
static cs_winograd_conv
plan_winograd (const conv_plan *p, bool transposed)
{
  const cs_conv_geom *g = &p->geom;
  cs_winograd_conv c = { .batch = p->batch, .transposed = transposed };
  if (!transposed)
    {
      c.in_channels = g->channels;
      c.height = g->height;
      c.width = g->width;
      c.out_channels = p->out_channels;
      c.out_h = g->out_h;
      c.out_w = g->out_w;
      c.pad_top = g->pad_top;
      c.pad_left = g->pad_left;
    }
  else
    {
      c.in_channels = p->out_channels;
      c.height = g->out_h;
      c.width = g->out_w;
      c.out_channels = g->channels;
      c.out_h = g->height;
      c.out_w = g->width;
      c.pad_top = 2 - g->pad_top;
      c.pad_left = 2 - g->pad_left;
    }
  return c;
}

static cs_status
conv_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_window_attrs *a = &node->attrs.window;
  const cs_shape *x = in[0], *w = in[1];
  char b1[96], b2[96];
  if (x->ndim != 4)
    return cs_error_set (err, CS_ERR_SHAPE, "input must be 4-D [N, C, H, W], got %s",
                         cs_shape_format (x, b1, sizeof b1));
  if (w->ndim != 4)
    return cs_error_set (err, CS_ERR_SHAPE, "weight must be 4-D [M, C/groups, kh, kw], got %s",
                         cs_shape_format (w, b1, sizeof b1));
  for (int i = 0; i < 2; i++)
    {
      if (a->stride[i] < 1)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "stride must be >= 1, got %d", a->stride[i]);
      if (a->dilation[i] < 1)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "dilation must be >= 1, got %d", a->dilation[i]);
      if (a->kernel[i] != 0 && a->kernel[i] != w->dim[2 + i])
        return cs_error_set (err, CS_ERR_SHAPE, "kernel_shape %dx%d does not match weight %s",
                             a->kernel[0], a->kernel[1], cs_shape_format (w, b1, sizeof b1));
    }
  for (int i = 0; i < 4; i++)
    if (a->pad[i] < 0)
      return cs_error_set (err, CS_ERR_UNSUPPORTED, "negative padding %d", a->pad[i]);
  int64_t groups = a->groups;
  int64_t c = x->dim[1], m = w->dim[0];
  if (groups < 1)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "groups must be >= 1, got %lld", (long long) groups);
  if (w->dim[1] < 1 || w->dim[2] < 1 || w->dim[3] < 1 || m < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "empty weight %s", cs_shape_format (w, b1, sizeof b1));
  if (c % groups != 0)
    return cs_error_set (err, CS_ERR_SHAPE, "input has %lld channels, not a multiple of groups %lld",
                         (long long) c, (long long) groups);
  if (m % groups != 0)
    return cs_error_set (err, CS_ERR_SHAPE, "weight has %lld output channels, not a multiple of "
                         "groups %lld", (long long) m, (long long) groups);
  if (w->dim[1] != c / groups)
    {
      if (groups == 1)
        return cs_error_set (err, CS_ERR_SHAPE, "weight has %lld input channels, input has %lld",
                             (long long) w->dim[1], (long long) c);
      return cs_error_set (err, CS_ERR_SHAPE, "weight has %lld input channels per group, input has "
                           "%lld (%lld channels in %lld groups)", (long long) w->dim[1],
                           (long long) (c / groups), (long long) c, (long long) groups);
    }
  if (node->n_inputs > 2)
    {
      const cs_shape *b = in[2];
      if (b->ndim != 1 || b->dim[0] != m)
        return cs_error_set (err, CS_ERR_SHAPE, "bias %s does not match %lld output channels",
                             cs_shape_format (b, b1, sizeof b1), (long long) m);
    }
  int64_t oh = out_size (x->dim[2], a->pad[0], a->pad[2], w->dim[2], a->stride[0], a->dilation[0]);
  int64_t ow = out_size (x->dim[3], a->pad[1], a->pad[3], w->dim[3], a->stride[1], a->dilation[1]);
  if (oh < 1 || ow < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "input %s is smaller than the (dilated, padded) kernel %s",
                         cs_shape_format (x, b1, sizeof b1), cs_shape_format (w, b2, sizeof b2));
  *out = cs_shape_4d (x->dim[0], m, oh, ow);
  if (cs_shape_numel (out) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "output [%lld, %lld, %lld, %lld] is too large",
                         (long long) x->dim[0], (long long) m, (long long) oh, (long long) ow);
  return CS_OK;
}

/* Saved state of a Winograd conv: its transformed weights, kept from call to call while the
 * weights stay the same. Layout in floats: a header (the planes are current), a copy of the
 * weights they were made from, then the planes (which the input gradient reads too). */
enum { AUX_VALID, AUX_HEADER = 16 };

static int64_t
aux_copy_floats (const conv_plan *p)
{
  int64_t w = p->out_channels * p->k_group;
  return (w + 15) / 16 * 16;
}

static int64_t
conv_aux_floats (const conv_plan *p)
{
  if (!p->winograd)
    return 0;
  cs_winograd_conv fw = plan_winograd (p, false);
  return AUX_HEADER + aux_copy_floats (p) + cs_winograd_weights_size (&fw);
}

/* Floats per block of the weight comparison, and blocks from which the team shares it: one
 * core alone takes 0.1 ms over a ResNet-18 layer3 conv's 2 x 2.4 MB while the others wait. */
#define COMPARE_BLOCK 16384
#define COMPARE_SPLIT_MIN 8

/* Whether a and b hold the same n floats, bit for bit (memcmp, split over the team). */
static bool
same_floats (const float *a, const float *b, int64_t n)
{
  const int64_t blocks = (n + COMPARE_BLOCK - 1) / COMPARE_BLOCK;
  bool same = true;
#pragma omp parallel for schedule(static) reduction(&& : same) if (blocks >= COMPARE_SPLIT_MIN)
  for (int64_t i = 0; i < blocks; i++)
    {
      const int64_t at = i * COMPARE_BLOCK, len = n - at < COMPARE_BLOCK ? n - at : COMPARE_BLOCK;
      same = same && memcmp (a + at, b + at, (size_t) len * sizeof (float)) == 0;
    }
  return same;
}

/* The forward planes for weights w: reused when the saved copy shows the same weights (every
 * file is reloaded, weights are edited in place by training and randomization tests, so the
 * copy is compared, never a pointer or a version), transformed again otherwise. In training
 * mode the weights change at every step: no copy, no reuse. */
static const float *
winograd_forward_planes (const conv_plan *p, const float *w, cs_tensor *aux, bool training)
{
  float *a = aux->data, *copy = a + AUX_HEADER, *u = copy + aux_copy_floats (p);
  const int64_t n = p->out_channels * p->k_group;
  if (!training && a[AUX_VALID] == 1.0f && same_floats (copy, w, n))
    return u;
  cs_winograd_conv wc = plan_winograd (p, false);
  cs_winograd_weights (&wc, w, u);
  a[AUX_VALID] = training ? 0.0f : 1.0f;
  if (!training)
    memcpy (copy, w, (size_t) n * sizeof (float));
  return u;
}

/* ---- depthwise: one input channel per group, direct loops ---------------------------- */

static void
depthwise_forward (const conv_plan *p, const float *x, const float *w, const float *b, float *y)
{
  const cs_conv_geom *g = &p->geom;
  const int64_t H = g->height, W = g->width, OH = g->out_h, OW = g->out_w, P = p->plane;
  const int64_t KH = g->kernel_h, KW = g->kernel_w, mult = p->out_per_group;
  const int64_t M = p->out_channels, sw = g->stride_w;
  const int64_t work = p->batch * M * P * KH * KW;

#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_MIN_WORK)
  for (int64_t n = 0; n < p->batch; n++)
    for (int64_t m = 0; m < M; m++)
      {
        const float *xp = x + (n * g->channels + m / mult) * H * W;
        const float *wk = w + m * KH * KW;
        float *yp = y + (n * M + m) * P;
        float bias = b != NULL ? b[m] : 0.0f;
#pragma omp simd
        for (int64_t i = 0; i < P; i++)
          yp[i] = bias;
        for (int64_t ki = 0; ki < KH; ki++)
          for (int64_t kj = 0; kj < KW; kj++)
            {
              const float wv = wk[ki * KW + kj];
              const int64_t off_w = kj * g->dilation_w - g->pad_left;
              int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
              int64_t hi = W - 1 - off_w < 0 ? 0 : (W - 1 - off_w) / sw + 1;
              if (hi > OW)
                hi = OW;
              for (int64_t oh = 0; oh < OH; oh++)
                {
                  const int64_t ih = oh * g->stride_h + ki * g->dilation_h - g->pad_top;
                  if (ih < 0 || ih >= H)
                    continue;
                  const float *src = xp + ih * W;
                  float *dst = yp + oh * OW;
                  if (sw == 1)
#pragma omp simd
                    for (int64_t ow = lo; ow < hi; ow++)
                      dst[ow] += wv * src[ow + off_w];
                  else
#pragma omp simd
                    for (int64_t ow = lo; ow < hi; ow++)
                      dst[ow] += wv * src[ow * sw + off_w];
                }
            }
      }
}

static void
depthwise_backward (const conv_plan *p, const float *x, const float *w, const float *dy,
                    float *dx, float *dw)
{
  const cs_conv_geom *g = &p->geom;
  const int64_t H = g->height, W = g->width, OH = g->out_h, OW = g->out_w, P = p->plane;
  const int64_t KH = g->kernel_h, KW = g->kernel_w, mult = p->out_per_group;
  const int64_t M = p->out_channels, C = g->channels, sw = g->stride_w;
  const int64_t work = p->batch * M * P * KH * KW;

  /* dx: each (sample, input channel) plane gathers from its `mult` output channels. */
  if (dx != NULL)
    {
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_MIN_WORK)
      for (int64_t n = 0; n < p->batch; n++)
        for (int64_t c = 0; c < C; c++)
          {
            float *xp = dx + (n * C + c) * H * W;
            for (int64_t j = 0; j < mult; j++)
              {
                const int64_t m = c * mult + j;
                const float *wk = w + m * KH * KW;
                const float *dyp = dy + (n * M + m) * P;
                for (int64_t ki = 0; ki < KH; ki++)
                  for (int64_t kj = 0; kj < KW; kj++)
                    {
                      const float wv = wk[ki * KW + kj];
                      const int64_t off_w = kj * g->dilation_w - g->pad_left;
                      int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
                      int64_t hi = W - 1 - off_w < 0 ? 0 : (W - 1 - off_w) / sw + 1;
                      if (hi > OW)
                        hi = OW;
                      for (int64_t oh = 0; oh < OH; oh++)
                        {
                          const int64_t ih = oh * g->stride_h + ki * g->dilation_h - g->pad_top;
                          if (ih < 0 || ih >= H)
                            continue;
                          float *dst = xp + ih * W;
                          const float *src = dyp + oh * OW;
                          if (sw == 1)
#pragma omp simd
                            for (int64_t ow = lo; ow < hi; ow++)
                              dst[ow + off_w] += wv * src[ow];
                          else
#pragma omp simd
                            for (int64_t ow = lo; ow < hi; ow++)
                              dst[ow * sw + off_w] += wv * src[ow];
                        }
                    }
              }
          }
    }

  /* dw: each output channel owns its kernel; the batch is summed inside. */
  if (dw != NULL)
    {
#pragma omp parallel for schedule(static) if (work > PARALLEL_MIN_WORK)
      for (int64_t m = 0; m < M; m++)
        {
          float *dwk = dw + m * KH * KW;
          for (int64_t ki = 0; ki < KH; ki++)
            for (int64_t kj = 0; kj < KW; kj++)
              {
                const int64_t off_w = kj * g->dilation_w - g->pad_left;
                int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
                int64_t hi = W - 1 - off_w < 0 ? 0 : (W - 1 - off_w) / sw + 1;
                if (hi > OW)
                  hi = OW;
                float acc = 0.0f;
                for (int64_t n = 0; n < p->batch; n++)
                  {
                    const float *xp = x + (n * C + m / mult) * H * W;
                    const float *dyp = dy + (n * M + m) * P;
                    for (int64_t oh = 0; oh < OH; oh++)
                      {
                        const int64_t ih = oh * g->stride_h + ki * g->dilation_h - g->pad_top;
                        if (ih < 0 || ih >= H)
                          continue;
                        const float *src = xp + ih * W;
                        const float *d = dyp + oh * OW;
                        for (int64_t ow = lo; ow < hi; ow++)
                          acc += d[ow] * src[ow * sw + off_w];
                      }
                  }
                dwk[ki * KW + kj] += acc;
              }
        }
    }
}

/* ---- GEMM path ------------------------------------------------------------------------ */

/* y[n, m, :] = b[m] (or 0), so that the GEMM can accumulate with beta = 1. */
static void
fill_bias (float *y, const float *b, int64_t rows, int64_t m_count, int64_t plane)
{
#pragma omp parallel for schedule(static) if (rows * plane > PARALLEL_MIN_WORK)
  for (int64_t r = 0; r < rows; r++)
    {
      float v = b[r % m_count];
      float *yp = y + r * plane;
#pragma omp simd
      for (int64_t i = 0; i < plane; i++)
        yp[i] = v;
    }
}

/* stage [M, cnt*P] <-> y[n0 .. n0+cnt, M, P] (+ bias on the way out). */
static void
stage_scatter (const float *stage, float *y, const float *b, int64_t cnt, int64_t M, int64_t P)
{
#pragma omp parallel for collapse(2) schedule(static) if (cnt * M * P > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < cnt; s++)
    for (int64_t m = 0; m < M; m++)
      {
        const float *src = stage + m * cnt * P + s * P;
        float *dst = y + (s * M + m) * P;
        float v = b != NULL ? b[m] : 0.0f;
#pragma omp simd
        for (int64_t i = 0; i < P; i++)
          dst[i] = src[i] + v;
      }
}

static void
stage_gather (const float *y, float *stage, int64_t cnt, int64_t M, int64_t P)
{
#pragma omp parallel for collapse(2) schedule(static) if (cnt * M * P > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < cnt; s++)
    for (int64_t m = 0; m < M; m++)
      memcpy (stage + m * cnt * P + s * P, y + (s * M + m) * P, (size_t) P * sizeof (float));
}

static cs_status
conv_forward (const cs_op_call *call)
{
  const cs_tensor *x = call->in[0], *w = call->in[1];
  const cs_tensor *b = call->n_inputs > 2 ? call->in[2] : NULL;
  conv_plan p;
  plan_make (&p, &call->node->attrs.window, &x->shape, &w->shape, x->shape.dim[0], true);
  const int64_t M = p.out_channels, P = p.plane, C = p.geom.channels;
  const int64_t HW = p.geom.height * p.geom.width, G = p.groups;
  const int64_t Mg = p.out_per_group, K = p.k_group;
  float *y = call->out->data;
  if (call->out->shape.ndim != 4 || call->out->shape.dim[0] != p.batch
      || call->out->shape.dim[1] != M || call->out->shape.dim[2] * call->out->shape.dim[3] != P)
    return CS_ERR_SHAPE;

  if (p.depthwise)
    {
      depthwise_forward (&p, x->data, w->data, b != NULL ? b->data : NULL, y);
      return CS_OK;
    }

  if (p.direct)
    {
      cs_conv_direct_forward (cs_conv_direct_isa_of_cpu (), &p.geom, M, p.batch, x->data, w->data,
                              b != NULL ? b->data : NULL, y, call->work);
      return CS_OK;
    }

  if (p.winograd)
    {
      /* The transformed weights live in aux: later calls and the input gradient reuse them. */
      cs_winograd_conv wc = plan_winograd (&p, false);
      if (call->aux == NULL || cs_tensor_numel (call->aux) < conv_aux_floats (&p))
        return CS_ERR_ARGUMENT;
      const bool training = call->ctx != NULL && call->ctx->training;
      const float *u = winograd_forward_planes (&p, w->data, call->aux, training);
      cs_winograd_run (&wc, x->data, u, b != NULL ? b->data : NULL, y, false, call->work);
      return CS_OK;
    }

  float *col = call->work;
  float *stage = call->work + plan_col_size (&p);
  for (int64_t n0 = 0; n0 < p.batch; n0 += p.chunk)
    {
      const int64_t cnt = p.batch - n0 < p.chunk ? p.batch - n0 : p.chunk;
      const float *xs = x->data + n0 * C * HW;
      float *ys = y + n0 * M * P;
      const float *bmat;
      int64_t ldb;
      if (p.pointwise && p.chunk == 1)
        {
          bmat = xs;
          ldb = P;
        }
      else
        {
          cs_im2col (&p.geom, xs, C * HW, cnt, col, cnt * P);
          bmat = col;
          ldb = cnt * P;
        }
      if (p.chunk == 1)
        {
          if (b != NULL)
            fill_bias (ys, b->data, M, M, P);
          for (int64_t g = 0; g < G; g++)
            cs_sgemm (CblasNoTrans, CblasNoTrans, (int) Mg, (int) P, (int) K,
                         1.0f, w->data + g * Mg * K, (int) K, bmat + g * K * ldb, (int) ldb,
                         b != NULL ? 1.0f : 0.0f, ys + g * Mg * P, (int) P);
        }
      else
        {
          for (int64_t g = 0; g < G; g++)
            cs_sgemm (CblasNoTrans, CblasNoTrans, (int) Mg, (int) (cnt * P),
                         (int) K, 1.0f, w->data + g * Mg * K, (int) K, bmat + g * K * ldb, (int) ldb,
                         0.0f, stage + g * Mg * cnt * P, (int) (cnt * P));
          stage_scatter (stage, ys, b != NULL ? b->data : NULL, cnt, M, P);
        }
    }
  return CS_OK;
}

static void
bias_backward (const float *dy, float *db, bool fresh, int64_t batch, int64_t M, int64_t P)
{
#pragma omp parallel for schedule(static) if (batch * M * P > PARALLEL_MIN_WORK)
  for (int64_t m = 0; m < M; m++)
    {
      double acc = 0.0;
      for (int64_t n = 0; n < batch; n++)
        {
          const float *d = dy + (n * M + m) * P;
          float part = 0.0f;
          /* in SIMD lanes: one serial accumulator is latency-bound */
#pragma omp simd reduction (+ : part)
          for (int64_t i = 0; i < P; i++)
            part += d[i];
          acc += part;
        }
      db[m] = (fresh ? 0.0f : db[m]) + (float) acc;
    }
}

static cs_status
conv_backward (const cs_op_call *call)
{
  const cs_tensor *x = call->in[0], *w = call->in[1];
  cs_tensor *dx = call->din[0], *dw = call->din[1];
  cs_tensor *db = call->n_inputs > 2 ? call->din[2] : NULL;
  conv_plan p;
  plan_make (&p, &call->node->attrs.window, &x->shape, &w->shape, x->shape.dim[0], false);
  const int64_t M = p.out_channels, P = p.plane, C = p.geom.channels;
  const int64_t HW = p.geom.height * p.geom.width, G = p.groups;
  const int64_t Mg = p.out_per_group, K = p.k_group;
  const float *dy = call->dout->data;

  /* A fresh dx or dw (cs_din_fresh) is written by the first chunk's GEMM, or zeroed just
   * before the steps that can only add. */
  bool dx_fresh = dx != NULL && cs_din_fresh (call, 0), dw_fresh = dw != NULL && cs_din_fresh (call, 1);
  if (db != NULL)
    bias_backward (dy, db->data, cs_din_fresh (call, 2), p.batch, M, P);
  if (dx == NULL && dw == NULL)
    return CS_OK;
  if (p.depthwise)
    {
      if (dx_fresh)
        memset (dx->data, 0, (size_t) cs_tensor_numel (dx) * sizeof (float));
      if (dw_fresh)
        memset (dw->data, 0, (size_t) cs_tensor_numel (dw) * sizeof (float));
      depthwise_backward (&p, x->data, w->data, dy, dx != NULL ? dx->data : NULL,
                          dw != NULL ? dw->data : NULL);
      return CS_OK;
    }

  /* Small input gradients stay on the GEMM path: LeNet's 1->6 5x5 conv1 at batch 1 (86 k
   * multiply-adds) made its saliency 0.077-0.078 -> 0.086-0.092 ms by the direct one. */
  if (p.direct && dx != NULL && p.batch * P * M * K >= DIRECT_GRAD_MIN_MACS)
    {
      cs_conv_direct_input_grad (cs_conv_direct_isa_of_cpu (), &p.geom, M, p.batch, dy, w->data,
                                 dx->data, !dx_fresh, call->work);
      dx = NULL;
      if (dw == NULL)
        return CS_OK;
    }

  if (p.winograd && dx != NULL)
    {
      cs_winograd_conv wc = plan_winograd (&p, true);
      if (call->aux == NULL || cs_tensor_numel (call->aux) < conv_aux_floats (&p))
        return CS_ERR_ARGUMENT;
      /* The forward just left the planes of these weights in aux. */
      const float *u = call->aux->data + AUX_HEADER + aux_copy_floats (&p);
      cs_winograd_run (&wc, dy, u, NULL, dx->data, !dx_fresh, call->work);
      dx = NULL;
      if (dw == NULL)
        return CS_OK;
    }

  float *col = call->work;
  float *stage = call->work + plan_col_size (&p);
  const bool in_place = p.pointwise && p.chunk == 1;
  for (int64_t n0 = 0; n0 < p.batch; n0 += p.chunk)
    {
      const int64_t cnt = p.batch - n0 < p.chunk ? p.batch - n0 : p.chunk;
      const int64_t ld = cnt * P;
      const float *dys = dy + n0 * M * P;
      if (p.chunk > 1)
        {
          stage_gather (dys, stage, cnt, M, P);
          dys = stage;
        }
      /* dys is now [M, ld] either way: with chunk 1, ld = P and rows are y's channels. */
      if (dw != NULL)
        {
          const float *xcol = x->data + n0 * C * HW;
          if (!in_place)
            {
              cs_im2col (&p.geom, xcol, C * HW, cnt, col, ld);
              xcol = col;
            }
          for (int64_t g = 0; g < G; g++)
            cs_sgemm (CblasNoTrans, CblasTrans, (int) Mg, (int) K, (int) ld,
                         1.0f, dys + g * Mg * ld, (int) ld, xcol + g * K * ld, (int) ld,
                         dw_fresh ? 0.0f : 1.0f, dw->data + g * Mg * K, (int) K);
          dw_fresh = false;
        }
      if (dx != NULL)
        {
          float *dxs = dx->data + n0 * C * HW;
          /* Pointwise: dx accumulates straight out of the GEMM. */
          float *dcol = in_place ? dxs : col;
          for (int64_t g = 0; g < G; g++)
            cs_sgemm (CblasTrans, CblasNoTrans, (int) K, (int) ld, (int) Mg,
                         1.0f, w->data + g * Mg * K, (int) K, dys + g * Mg * ld, (int) ld,
                         in_place && !dx_fresh ? 1.0f : 0.0f, dcol + g * K * ld, (int) ld);
          if (!in_place)
            {
              if (dx_fresh)
                memset (dxs, 0, (size_t) (cnt * C * HW) * sizeof (float));
              cs_col2im (&p.geom, col, ld, cnt, dxs, C * HW);
            }
        }
    }
  return CS_OK;
}

static int64_t
conv_workspace (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n)
{
  conv_plan p, back;
  plan_make (&p, &node->attrs.window, in[0], in[1], n, true);
  plan_make (&back, &node->attrs.window, in[0], in[1], n, false);
  int64_t size = plan_col_size (&p) + plan_stage_size (&p);
  if (plan_col_size (&back) + plan_stage_size (&back) > size)
    size = plan_col_size (&back) + plan_stage_size (&back);
  if (p.direct && cs_conv_direct_workspace (&p.geom, p.out_channels, n) > size)
    size = cs_conv_direct_workspace (&p.geom, p.out_channels, n);
  if (p.winograd)
    for (int t = 0; t < 2; t++)
      {
        cs_winograd_conv wc = plan_winograd (&p, t == 1);
        int64_t ws = cs_winograd_workspace (&wc);
        if (ws > size)
          size = ws;
      }
  return size;
}

/* Winograd keeps the transformed weights for later calls and the input gradient. */
static int64_t
conv_aux_size (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n)
{
  conv_plan p;
  plan_make (&p, &node->attrs.window, in[0], in[1], n, true);
  return conv_aux_floats (&p);
}

static int64_t
conv_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  const cs_shape *w = in[1];
  int64_t macs = out->dim[0] * out->dim[1] * out->dim[2] * out->dim[3] * w->dim[1] * w->dim[2] * w->dim[3];
  return 2 * macs;
}

const cs_op_info cs_op_conv2d_info = {
  .name = "conv2d",
  .fresh_din = true,
  .min_inputs = 2,
  .max_inputs = 3,
  .infer = conv_infer,
  .forward = conv_forward,
  .backward = conv_backward,
  .workspace = conv_workspace,
  .aux_size = conv_aux_size,
  .flops = conv_flops,
};
