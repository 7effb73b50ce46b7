/* Image parameterisations of activation maximisation. The spectrum is a full complex h×w
 * array whose real part after the inverse DFT is the image (twice the parameters of a real
 * FFT, harmless), computed as two complex matrix products with OpenBLAS: at 224×224 that is
 * what a hand FFT would buy, without the code. */
#include "features/image_param.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lucid's square root of ImageNet's colour covariance, columns scaled to unit max norm below:
 * optimising in these coordinates decorrelates the colour channels. */
static const float color_sqrt[3][3] = {
  { 0.26f, 0.09f, 0.02f },
  { 0.27f, 0.00f, -0.05f },
  { 0.27f, -0.09f, 0.03f },
};

static void
color_matrix (float m[3][3])
{
  double best = 0;
  for (int j = 0; j < 3; j++)
    {
      double n = 0;
      for (int i = 0; i < 3; i++)
        n += (double) color_sqrt[i][j] * color_sqrt[i][j];
      best = fmax (best, sqrt (n));
    }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      m[i][j] = (float) (color_sqrt[i][j] / best);
}

static double
freq (int32_t k, int32_t n)
{
  /* numpy.fft.fftfreq */
  return (k < (n + 1) / 2 ? k : k - n) / (double) n;
}

cs_status
cs_image_param_init (cs_image_param *p, cs_image_param_kind kind, int32_t c, int32_t h, int32_t w,
                     cs_error *err)
{
  memset (p, 0, sizeof *p);
  p->kind = kind;
  p->c = c;
  p->h = h;
  p->w = w;
  int64_t hw = (int64_t) h * w;
  p->per_image = (kind == CS_IMAGE_PARAM_FOURIER ? 2 : 1) * c * hw;
  p->pre = cs_alloc_floats (c * hw);
  if (p->pre == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "activation maximisation: out of memory");
  if (kind != CS_IMAGE_PARAM_FOURIER)
    return CS_OK;
  p->scale = cs_alloc_floats (hw);
  p->eh = cs_alloc_floats (2 * (int64_t) h * h);
  p->ew = cs_alloc_floats (2 * (int64_t) w * w);
  p->t1 = cs_alloc_floats (2 * hw);
  p->t2 = cs_alloc_floats (2 * hw);
  if (p->scale == NULL || p->eh == NULL || p->ew == NULL || p->t1 == NULL || p->t2 == NULL)
    {
      cs_image_param_free (p);
      return cs_error_set (err, CS_ERR_MEMORY, "activation maximisation: out of memory");
    }
  double floor_f = 1.0 / (h > w ? h : w);
  for (int32_t k = 0; k < h; k++)
    for (int32_t l = 0; l < w; l++)
      {
        double fy = freq (k, h), fx = freq (l, w);
        p->scale[k * w + l] = (float) (1.0 / fmax (sqrt (fx * fx + fy * fy), floor_f));
      }
  for (int pass = 0; pass < 2; pass++)
    {
      int32_t n = pass == 0 ? h : w;
      float *e = pass == 0 ? p->eh : p->ew;
      for (int32_t a = 0; a < n; a++)
        for (int32_t b = 0; b < n; b++)
          {
            /* reduce the phase in integers, so that large n keeps full accuracy */
            double th = 2.0 * M_PI * (double) (((int64_t) a * b) % n) / n;
            e[2 * (a * n + b)] = (float) cos (th);
            e[2 * (a * n + b) + 1] = (float) sin (th);
          }
    }
  return CS_OK;
}

void
cs_image_param_free (cs_image_param *p)
{
  cs_free_floats (p->scale);
  cs_free_floats (p->eh);
  cs_free_floats (p->ew);
  cs_free_floats (p->t1);
  cs_free_floats (p->t2);
  cs_free_floats (p->pre);
  memset (p, 0, sizeof *p);
}

void
cs_image_param_randomize (const cs_image_param *p, cs_rng *rng, float sd, float *params)
{
  for (int64_t i = 0; i < p->per_image; i++)
    params[i] = sd * (float) cs_rng_normal (rng);
}

/* The spectrum's overall gain: unitary-like (1/sqrt(hw)) and Lucid's /4, so that the same
 * learning rate suits pixel and Fourier parameters. */
static float
fourier_gain (const cs_image_param *p)
{
  return 0.25f / sqrtf ((float) p->h * (float) p->w);
}

static float
sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

void
cs_image_param_render (cs_image_param *p, const float *params, float *rgb)
{
  int64_t hw = (int64_t) p->h * p->w;
  if (p->kind == CS_IMAGE_PARAM_FOURIER)
    {
      const float gain = fourier_gain (p);
      const float one[2] = { 1, 0 }, zero[2] = { 0, 0 };
      for (int32_t ch = 0; ch < p->c; ch++)
        {
          const float *z = params + 2 * ch * hw;
          for (int64_t i = 0; i < hw; i++)
            {
              p->t1[2 * i] = z[2 * i] * p->scale[i];
              p->t1[2 * i + 1] = z[2 * i + 1] * p->scale[i];
            }
          /* t2 = E_h · t1, then t1 = t2 · E_w (E_w is symmetric) */
          cblas_cgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, p->h, p->w, p->h, one, p->eh, p->h,
                       p->t1, p->w, zero, p->t2, p->w);
          cblas_cgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, p->h, p->w, p->w, one, p->t2, p->w,
                       p->ew, p->w, zero, p->t1, p->w);
          for (int64_t i = 0; i < hw; i++)
            p->pre[ch * hw + i] = gain * p->t1[2 * i];
        }
    }
  else
    memcpy (p->pre, params, (size_t) (p->c * hw) * sizeof (float));

  if (p->c == 3)
    {
      float m[3][3];
      color_matrix (m);
      for (int64_t i = 0; i < hw; i++)
        for (int a = 0; a < 3; a++)
          {
            float u = 0;
            for (int b = 0; b < 3; b++)
              u += m[a][b] * p->pre[b * hw + i];
            rgb[a * hw + i] = sigmoid (u);
          }
    }
  else
    for (int64_t i = 0; i < p->c * hw; i++)
      rgb[i] = sigmoid (p->pre[i]);
}

void
cs_image_param_backward (cs_image_param *p, const float *rgb, const float *grad_rgb,
                         float *grad_params)
{
  int64_t hw = (int64_t) p->h * p->w;
  /* through the sigmoid and the colour map (transposed), into p->pre as d/d pre */
  float *g = p->pre;
  if (p->c == 3)
    {
      float m[3][3];
      color_matrix (m);
      for (int64_t i = 0; i < hw; i++)
        {
          float du[3];
          for (int a = 0; a < 3; a++)
            du[a] = grad_rgb[a * hw + i] * rgb[a * hw + i] * (1.0f - rgb[a * hw + i]);
          for (int b = 0; b < 3; b++)
            g[b * hw + i] = m[0][b] * du[0] + m[1][b] * du[1] + m[2][b] * du[2];
        }
    }
  else
    for (int64_t i = 0; i < p->c * hw; i++)
      g[i] = grad_rgb[i] * rgb[i] * (1.0f - rgb[i]);

  if (p->kind != CS_IMAGE_PARAM_FOURIER)
    {
      memcpy (grad_params, g, (size_t) (p->c * hw) * sizeof (float));
      return;
    }
  /* d/d(a + ib) = gain · scale · DFT(g), DFT with e^{-iθ}: conjugate-transposed products of the
   * symmetric matrices. */
  const float gain = fourier_gain (p);
  const float one[2] = { 1, 0 }, zero[2] = { 0, 0 };
  for (int32_t ch = 0; ch < p->c; ch++)
    {
      for (int64_t i = 0; i < hw; i++)
        {
          p->t1[2 * i] = g[ch * hw + i];
          p->t1[2 * i + 1] = 0;
        }
      cblas_cgemm (CblasRowMajor, CblasConjTrans, CblasNoTrans, p->h, p->w, p->h, one, p->eh, p->h,
                   p->t1, p->w, zero, p->t2, p->w);
      cblas_cgemm (CblasRowMajor, CblasNoTrans, CblasConjTrans, p->h, p->w, p->w, one, p->t2, p->w,
                   p->ew, p->w, zero, p->t1, p->w);
      float *z = grad_params + 2 * ch * hw;
      for (int64_t i = 0; i < hw; i++)
        {
          z[2 * i] = gain * p->scale[i] * p->t1[2 * i];
          z[2 * i + 1] = gain * p->scale[i] * p->t1[2 * i + 1];
        }
    }
}

void
cs_image_blur (float *img, int32_t c, int32_t h, int32_t w, float sigma, float *scratch)
{
  if (sigma <= 0)
    return;
  int32_t r = (int32_t) ceilf (3 * sigma);
  if (r > 32)
    r = 32;
  float k[65];
  float sum = 0;
  for (int32_t i = -r; i <= r; i++)
    sum += k[i + r] = expf (-0.5f * (float) (i * i) / (sigma * sigma));
  for (int32_t i = 0; i <= 2 * r; i++)
    k[i] /= sum;
  int64_t hw = (int64_t) h * w;
  for (int32_t ch = 0; ch < c; ch++)
    {
      float *a = img + ch * hw;
      for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++)
          {
            float s = 0;
            for (int32_t i = -r; i <= r; i++)
              {
                int32_t xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                s += k[i + r] * a[y * w + xx];
              }
            scratch[y * w + x] = s;
          }
      for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++)
          {
            float s = 0;
            for (int32_t i = -r; i <= r; i++)
              {
                int32_t yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                s += k[i + r] * scratch[yy * w + x];
              }
            a[y * w + x] = s;
          }
    }
}
