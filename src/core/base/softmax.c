/* Softmax over one row of logits (see softmax.h). */
#include "base/softmax.h"

#include <math.h>

/* The largest logit and the sum of exp (z - max). */
static double
normaliser (const float *z, int64_t n, double *top)
{
  double mx = -INFINITY, sum = 0.0;
  for (int64_t i = 0; i < n; i++)
    mx = fmax (mx, (double) z[i]);
  for (int64_t i = 0; i < n; i++)
    sum += exp ((double) z[i] - mx);
  *top = mx;
  return sum;
}

void
cs_softmax (const float *logits, int64_t n, float *p)
{
  double top, sum = normaliser (logits, n, &top);
  for (int64_t i = 0; i < n; i++)
    p[i] = (float) (exp ((double) logits[i] - top) / sum);
}

double
cs_softmax_at (const float *logits, int64_t n, int64_t k)
{
  if (k < 0 || k >= n)
    return NAN;
  double top, sum = normaliser (logits, n, &top);
  return exp ((double) logits[k] - top) / sum;
}
