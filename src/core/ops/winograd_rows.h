/* One tile row of Winograd F(2x2, 3x3)'s input and output transforms: portable loops
 * (winograd_rows.c) and AVX-512 (winograd_avx512.c, only where cs_sgemm_avx512_available), the
 * same operations in the same order, so both give the same bits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* V[xi][t] = (B^T d B)[xi] for the tiles t < tw of one tile row, stored at v + xi * stride + t:
 * tile t's 4x4 patch d is rows r0 .. r0+3 and columns c0 + 2t .. c0 + 2t + 3 of the h x w
 * plane xp, zero outside it. */
typedef void (*cs_winograd_input_row_fn) (const float *xp, int64_t h, int64_t w, int64_t r0,
                                          int64_t c0, int64_t tw, float *v, int64_t stride);

/* Rows row0 and row0 + 1 of the oh x ow plane yp (=, or += when accumulate) from the products
 * M[xi][t] at mp + xi * stride + t of one tile row: A^T M A + bias, cropped at the plane's
 * bottom and right edges. */
typedef void (*cs_winograd_output_row_fn) (const float *mp, int64_t stride, int64_t tw,
                                           float bias, float *yp, int64_t oh, int64_t ow,
                                           int64_t row0, bool accumulate);

void cs_winograd_input_row (const float *xp, int64_t h, int64_t w, int64_t r0, int64_t c0,
                            int64_t tw, float *v, int64_t stride);
void cs_winograd_output_row (const float *mp, int64_t stride, int64_t tw, float bias, float *yp,
                             int64_t oh, int64_t ow, int64_t row0, bool accumulate);
void cs_winograd_input_row_avx512 (const float *xp, int64_t h, int64_t w, int64_t r0, int64_t c0,
                                   int64_t tw, float *v, int64_t stride);
void cs_winograd_output_row_avx512 (const float *mp, int64_t stride, int64_t tw, float bias,
                                    float *yp, int64_t oh, int64_t ow, int64_t row0, bool accumulate);
