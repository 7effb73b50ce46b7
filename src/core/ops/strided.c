/* N-d strided copies for the layout ops (transpose, slice, and the backward of all of them). */
#include "ops/strided.h"

#include <string.h>

void
cs_strides_contiguous (const cs_shape *s, int64_t *strides)
{
  int64_t acc = 1;
  for (int32_t d = s->ndim - 1; d >= 0; d--)
    {
      strides[d] = acc;
      acc *= s->dim[d];
    }
}

/* Drops size-1 dims and merges a dim into its outer neighbour when both sides step through
 * the pair as one run; returns false when the box is empty. */
static bool
collapse (const cs_strided_box *in, cs_strided_box *r)
{
  int32_t n = 0;
  for (int32_t d = 0; d < in->ndim; d++)
    {
      if (in->dim[d] <= 0)
        return false;
      if (in->dim[d] == 1)
        continue;
      if (n > 0 && r->dst[n - 1] == in->dst[d] * in->dim[d]
          && r->src[n - 1] == in->src[d] * in->dim[d])
        {
          r->dim[n - 1] *= in->dim[d];
          r->dst[n - 1] = in->dst[d];
          r->src[n - 1] = in->src[d];
          continue;
        }
      r->dim[n] = in->dim[d];
      r->dst[n] = in->dst[d];
      r->src[n] = in->src[d];
      n++;
    }
  if (n == 0)
    {
      r->dim[0] = 1;
      r->dst[0] = r->src[0] = 1;
      n = 1;
    }
  r->ndim = n;
  return true;
}

void
cs_floats_accumulate (float *dst, const float *src, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    dst[i] += src[i];
}

static void
walk (float *dst, const float *src, const cs_strided_box *box, bool accumulate)
{
  cs_strided_box b;
  if (!collapse (box, &b))
    return;
  int32_t last = b.ndim - 1;
  int64_t n = b.dim[last], sd = b.dst[last], ss = b.src[last];
  int64_t idx[CS_MAX_DIMS] = { 0 };
  for (;;)
    {
      if (sd == 1 && ss == 1)
        {
          if (accumulate)
            cs_floats_accumulate (dst, src, n);
          else
            memcpy (dst, src, (size_t) n * sizeof (float));
        }
      else if (accumulate)
        for (int64_t i = 0; i < n; i++)
          dst[i * sd] += src[i * ss];
      else
        for (int64_t i = 0; i < n; i++)
          dst[i * sd] = src[i * ss];

      /* odometer over the outer dims */
      int32_t d = last - 1;
      for (; d >= 0; d--)
        {
          dst += b.dst[d];
          src += b.src[d];
          if (++idx[d] < b.dim[d])
            break;
          dst -= b.dst[d] * b.dim[d];
          src -= b.src[d] * b.dim[d];
          idx[d] = 0;
        }
      if (d < 0)
        return;
    }
}

void
cs_strided_copy (float *dst, const float *src, const cs_strided_box *box)
{
  walk (dst, src, box, false);
}

void
cs_strided_accumulate (float *dst, const float *src, const cs_strided_box *box)
{
  walk (dst, src, box, true);
}
