/* Dense float32 tensors: a shape (up to CS_MAX_DIMS dims, row-major, contiguous) and aligned data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define CS_MAX_DIMS 6

/* The largest tensor we agree to allocate (2^31 floats = 8 GiB); a file header that claims
 * more is rejected before any allocation. */
#define CS_MAX_ELEMENTS ((int64_t) 1 << 31)

typedef struct {
  int32_t ndim;
  int64_t dim[CS_MAX_DIMS];
} cs_shape;

typedef struct {
  cs_shape shape;
  float *data;   /* 64-byte aligned when owned */
  bool owned;    /* false for views into another tensor or a mapped file */
} cs_tensor;

/* Builds a shape from a list of dims: cs_shape_make (4, (int64_t[]){1, 3, 224, 224}). */
cs_shape cs_shape_make (int32_t ndim, const int64_t *dims);
cs_shape cs_shape_4d (int64_t n, int64_t c, int64_t h, int64_t w);

/* Product of dims, or -1 when a dim is negative or the product exceeds CS_MAX_ELEMENTS. */
int64_t cs_shape_numel (const cs_shape *s);
bool cs_shape_equal (const cs_shape *a, const cs_shape *b);

/* Writes "[1, 3, 224, 224]" into buf; returns buf. */
const char *cs_shape_format (const cs_shape *s, char *buf, size_t size);

/* Allocates a zero-filled tensor; fails with CS_ERR_LIMIT above CS_MAX_ELEMENTS. */
cs_status cs_tensor_alloc (cs_tensor *t, const cs_shape *shape, cs_error *err);
/* A non-owning view over data. */
cs_tensor cs_tensor_view (const cs_shape *shape, float *data);
void cs_tensor_free (cs_tensor *t);  /* frees owned data; safe on a zeroed or freed tensor */
int64_t cs_tensor_numel (const cs_tensor *t);
void cs_tensor_zero (cs_tensor *t);
cs_status cs_tensor_copy (cs_tensor *dst, const cs_tensor *src, cs_error *err); /* allocates dst */

/* Aligned allocation used for all float buffers (64-byte alignment, zero-filled).
 * Returns NULL when count is out of range or memory runs out. */
float *cs_alloc_floats (int64_t count);
void cs_free_floats (float *p);
