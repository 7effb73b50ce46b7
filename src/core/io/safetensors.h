/* safetensors weights: laid over a model by parameter name, and written atomically. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "graph/model.h"

/* Copies every tensor of the file whose name is a parameter of m into m's weights (shapes must
 * match; F32, F16, BF16 and F64 are converted). Parameters the file lacks are an error unless
 * allow_missing; tensors the model lacks are ignored. */
cs_status cs_safetensors_apply (cs_model *m, const char *path, bool allow_missing, cs_error *err);
cs_status cs_safetensors_apply_memory (cs_model *m, const uint8_t *data, size_t size,
                                       const char *name, bool allow_missing, cs_error *err);
/* Writes every parameter of m as F32 (atomically: temp file + rename). */
cs_status cs_safetensors_save (const cs_model *m, const char *path, cs_error *err);
