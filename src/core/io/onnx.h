/* ONNX import through protobuf-c: graph, initializers (as parameters), shape arithmetic folded. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "graph/model.h"

cs_model *cs_onnx_load (const char *path, cs_error *err);
/* Parses an in-memory ModelProto; name is used in messages. */
cs_model *cs_onnx_load_memory (const uint8_t *data, size_t size, const char *name, cs_error *err);
