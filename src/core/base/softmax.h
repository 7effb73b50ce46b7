/* Softmax over one row of logits, the single implementation behind every probability the
 * product reports (predict, explain, compare, the app's predictions, CAM scores, deletion and
 * insertion curves). */
#pragma once

#include <stdint.h>

/* p[i] = exp (z[i] - max) / sum_j exp (z[j] - max), accumulated in double: large logits do not
 * overflow and a float sum would lose the small classes. */
void cs_softmax (const float *logits, int64_t n, float *p);
/* The probability of class k alone (NaN when k is out of range). */
double cs_softmax_at (const float *logits, int64_t n, int64_t k);
