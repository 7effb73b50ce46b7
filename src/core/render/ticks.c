/* Axis ticks at "nice" values: steps of 1, 2 or 5 × 10^k, so labels read 0.5, 1.0, 1.5. */
#include "render/ticks.h"

#include <math.h>

int
cs_nice_ticks (double lo, double hi, int max_ticks, double *first, double *step, int *decimals)
{
  static const double mult[3] = { 1, 2, 5 };
  double range = hi - lo;

  *first = lo;
  *step = 0;
  *decimals = 0;
  if (!isfinite (lo) || !isfinite (hi) || !(range > 0) || max_ticks < 1)
    return 0;
  /* Start one decade below the range / max_ticks estimate and widen until the count fits:
   * the count of multiples of a step inside [lo, hi] can exceed range / step by one. */
  int k = (int) floor (log10 (range / max_ticks)) - 1;
  for (int guard = 0; guard < 8; guard++, k++)
    for (int m = 0; m < 3; m++)
      {
        double s = mult[m] * pow (10, k);
        /* A tiny tolerance: 0.3 / 0.1 is 2.9999999999999996, and 0.3 is a tick. */
        double f = ceil (lo / s - 1e-9) * s;
        int n = (int) floor ((hi - f) / s + 1e-9) + 1;
        if (n <= max_ticks)
          {
            *first = f == 0 ? 0 : f; /* no "-0" */
            *step = s;
            *decimals = k < 0 ? -k : 0;
            return n;
          }
      }
  return 0;
}
