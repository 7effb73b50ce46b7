/* Helpers shared by the ONNX tests: reading files, TensorProto test data, and loading a test
 * case's model with its extra inputs bound as initializers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/exec.h"
#include "io/onnx.h"

/* Reads a whole file (at most 1 GiB); NULL when it cannot. */
uint8_t *onnx_test_read_file (const char *path, size_t *size);

/* Decodes a FLOAT TensorProto file into t (allocated); false with why[] filled otherwise. */
bool onnx_test_read_tensor (const char *path, cs_tensor *t, char *why, size_t why_size);

/* Loads dir/model.onnx with graph inputs 1.. bound (as initializers) to set_dir/input_K.pb,
 * so that node tests with weights or shapes as inputs have a single model input. */
cs_model *onnx_test_load_case (const char *dir, const char *set_dir, cs_error *err);
