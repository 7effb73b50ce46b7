/* Axis ticks at "nice" values: steps of 1, 2 or 5 × 10^k. */
#pragma once

/* Ticks covering [lo, hi]: the smallest step of 1, 2 or 5 × 10^k giving at most max_ticks ticks
 * inside the range; the first tick is the first multiple of the step at or above lo. Returns
 * the number of ticks (0 when the range is empty, non-finite or max_ticks < 1) and sets *first,
 * *step and *decimals (the digits after the point that print the step exactly). */
int cs_nice_ticks (double lo, double hi, int max_ticks, double *first, double *step, int *decimals);
