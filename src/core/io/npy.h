/* NumPy .npy arrays: float32 (and float64, converted) read; float32 written atomically. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/tensor.h"

cs_status cs_npy_load (const char *path, cs_tensor *out, cs_error *err);
cs_status cs_npy_parse (const uint8_t *data, size_t size, const char *name, cs_tensor *out,
                        cs_error *err);
cs_status cs_npy_save (const char *path, const cs_tensor *t, cs_error *err);
