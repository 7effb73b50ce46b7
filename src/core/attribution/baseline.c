/* Baselines x' for integrated gradients and occlusion: zero, Gaussian blur, uniform noise. */
#include "attribution/baseline.h"

#include <math.h>
#include <string.h>

#include "base/rng.h"

double
cs_baseline_blur_sigma (int64_t height, int64_t width)
{
  return (double) (height > width ? height : width) / 20.0;
}

/* One separable pass along lines of `len` elements spaced `step` apart, `count` lines
 * starting at the offsets line_start(i). Edges replicate the border pixel. */
static void
blur_lines (float *data, int64_t len, int64_t step, int64_t count, int64_t line_step,
            const double *kernel, int64_t radius, double *line)
{
  for (int64_t l = 0; l < count; l++)
    {
      float *p = data + l * line_step;
      for (int64_t i = 0; i < len; i++)
        line[i] = p[i * step];
      for (int64_t i = 0; i < len; i++)
        {
          double acc = 0;
          for (int64_t k = -radius; k <= radius; k++)
            {
              int64_t j = i + k;
              j = j < 0 ? 0 : j >= len ? len - 1 : j;
              acc += kernel[k + radius] * line[j];
            }
          p[i * step] = (float) acc;
        }
    }
}

static cs_status
blur (cs_tensor *t, int64_t c, int64_t h, int64_t w, cs_error *err)
{
  double sigma = cs_baseline_blur_sigma (h, w);
  int64_t radius = (int64_t) ceil (3.0 * sigma);
  int64_t longest = h > w ? h : w;
  /* one scratch block: kernel, then a line */
  float *scratch = cs_alloc_floats (2 * (2 * radius + 1 + longest));
  if (scratch == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a blur of radius %lld", (long long) radius);
  double *kernel = (double *) scratch, *line = kernel + 2 * radius + 1;
  double total = 0;
  for (int64_t k = -radius; k <= radius; k++)
    total += kernel[k + radius] = exp (-0.5 * (double) (k * k) / (sigma * sigma));
  for (int64_t k = 0; k <= 2 * radius; k++)
    kernel[k] /= total;
  for (int64_t ch = 0; ch < c; ch++)
    {
      float *plane = t->data + ch * h * w;
      blur_lines (plane, w, 1, h, w, kernel, radius, line);  /* rows */
      blur_lines (plane, h, w, w, 1, kernel, radius, line);  /* columns */
    }
  cs_free_floats (scratch);
  return CS_OK;
}

cs_status
cs_baseline_make (cs_baseline kind, const cs_tensor *input, uint64_t seed, cs_tensor *baseline,
                  cs_error *err)
{
  memset (baseline, 0, sizeof *baseline);
  int32_t nd = input->shape.ndim;
  if (nd < 3 || (nd == 4 && input->shape.dim[0] != 1) || nd > 4)
    return cs_error_set (err, CS_ERR_SHAPE, "a baseline needs a (C,H,W) input");
  int64_t c = input->shape.dim[nd - 3], h = input->shape.dim[nd - 2], w = input->shape.dim[nd - 1];
  cs_status st = cs_tensor_alloc (baseline, &input->shape, err);
  if (st != CS_OK)
    return st;
  int64_t n = cs_tensor_numel (input);
  switch (kind)
    {
    case CS_BASELINE_ZERO:
      return CS_OK;
    case CS_BASELINE_BLUR:
      memcpy (baseline->data, input->data, (size_t) n * sizeof (float));
      st = blur (baseline, c, h, w, err);
      break;
    case CS_BASELINE_UNIFORM:
      {
        float lo = input->data[0], hi = input->data[0];
        for (int64_t i = 1; i < n; i++)
          {
            lo = input->data[i] < lo ? input->data[i] : lo;
            hi = input->data[i] > hi ? input->data[i] : hi;
          }
        cs_rng rng;
        cs_rng_seed (&rng, seed);
        for (int64_t i = 0; i < n; i++)
          baseline->data[i] = (float) (lo + cs_rng_uniform (&rng) * ((double) hi - lo));
        break;
      }
    default:
      st = cs_error_set (err, CS_ERR_ARGUMENT, "unknown baseline %d", (int) kind);
    }
  if (st != CS_OK)
    cs_tensor_free (baseline);
  return st;
}
