/* AVX-512 kernels of the max pool (pool_avx512.c), for CPUs where cs_sgemm_avx512_available. */
#pragma once

#include <stdint.h>

/* n >= 16 3x3 windows at stride 2 along a row, all inside the input: window k's top-left is
 * r0 + 2k (index at0 + 2k in the plane, rows w apart). y[k] = its maximum, at[k] = where, by
 * max_window's rule: the first maximum in scan order, or the first NaN. Sixteen windows at a
 * time, the last sixteen overlapping the ones before. Reads r0[0 .. 2n] of each of 3 rows. */
void cs_max_row_3x3_s2_avx512 (const float *r0, int32_t at0, int32_t w, int64_t n, float *y,
                               int32_t *at);
