/* Internals of the ONNX importer shared by its files: the value table, constants, attributes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/graph.h"
#include "io/onnx/onnx.pb-c.h"

/* Constants evaluated at load may have more dims than runtime tensors. */
#define CS_ONNX_MAX_DIMS 8

/* A tensor known at load: integer data (shapes, indices) or float data (weights). */
typedef struct {
  int32_t ndim;
  int64_t dim[CS_ONNX_MAX_DIMS];
  int64_t numel;
  bool is_int;
  int64_t *i;                /* is_int: numel values */
  float *f;                  /* !is_int: numel values */
} cs_onnx_const;

typedef enum {
  CS_ONNX_VALUE_NODE = 1,    /* produced by a graph node */
  CS_ONNX_VALUE_CONST,       /* known at load */
} cs_onnx_value_kind;

typedef struct {
  char *name;
  cs_onnx_value_kind kind;
  int32_t node;              /* graph node id; for constants, the node once materialised, or -1 */
  bool initializer;          /* a constant from graph.initializer: materialises as a parameter */
  cs_onnx_const c;
} cs_onnx_value;

typedef struct {
  const char *file;          /* for messages */
  int64_t opset;
  cs_graph *g;
  int32_t n_values, cap_values;
  cs_onnx_value *values;
  int32_t *hash;             /* open addressing over values, -1 = empty */
  int32_t hash_cap;
  int64_t input_batch;       /* the graph input's declared dim 0 (1 when symbolic) */
  /* the node being converted, for messages */
  int32_t node_index;
  const Onnx__NodeProto *node;
} cs_onnx_ctx;

/* Constants. */
void cs_onnx_const_free (cs_onnx_const *c);
cs_status cs_onnx_const_alloc (cs_onnx_const *c, int32_t ndim, const int64_t *dim, bool is_int,
                               cs_error *err);
cs_status cs_onnx_const_from_proto (cs_onnx_const *c, const Onnx__TensorProto *t, cs_error *err);
double cs_onnx_const_get (const cs_onnx_const *c, int64_t k);
int64_t cs_onnx_const_get_int (const cs_onnx_const *c, int64_t k);
cs_status cs_onnx_const_to_tensor (const cs_onnx_const *c, cs_tensor *t, cs_error *err);

/* Values. */
cs_onnx_value *cs_onnx_value_find (cs_onnx_ctx *ctx, const char *name);
cs_status cs_onnx_value_add_node (cs_onnx_ctx *ctx, const char *name, int32_t node, cs_error *err);
/* Takes ownership of c. */
cs_status cs_onnx_value_add_const (cs_onnx_ctx *ctx, const char *name, cs_onnx_const *c,
                                   bool initializer, cs_error *err);

/* Node errors: "file: node 12 (Conv 'conv1'): reason". */
cs_status cs_onnx_node_error (cs_onnx_ctx *ctx, cs_error *err, cs_status code, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

/* Inputs of the current node. Optional inputs may be absent (index beyond n_input or ""). */
bool cs_onnx_has_input (const cs_onnx_ctx *ctx, int32_t k);
/* The value of input k, or NULL with an error. */
cs_onnx_value *cs_onnx_input (cs_onnx_ctx *ctx, int32_t k, cs_error *err);
/* The graph node of input k, materialising constants (parameters for initializers). */
int32_t cs_onnx_input_node (cs_onnx_ctx *ctx, int32_t k, cs_error *err);
/* Input k as a load-time constant, or NULL with an error saying it must be constant. */
const cs_onnx_const *cs_onnx_input_const (cs_onnx_ctx *ctx, int32_t k, cs_error *err);
/* The full shape of input k (graph shape for nodes, dim 0 = 1 when batched). */
cs_status cs_onnx_input_shape (cs_onnx_ctx *ctx, int32_t k, cs_shape *shape, cs_error *err);

/* Adds a graph node for the current ONNX node (name derived from it plus suffix) and binds
 * output 0 to it when bind is true. Returns the node id or -1. */
int32_t cs_onnx_emit (cs_onnx_ctx *ctx, cs_op op, const char *suffix, const int32_t *inputs,
                      int32_t n_inputs, const cs_attrs *attrs, bool bind, cs_error *err);

/* Attributes of the current node. */
const Onnx__AttributeProto *cs_onnx_attr (const cs_onnx_ctx *ctx, const char *name);
int64_t cs_onnx_attr_int (const cs_onnx_ctx *ctx, const char *name, int64_t def);
float cs_onnx_attr_float (const cs_onnx_ctx *ctx, const char *name, float def);
/* The string attribute or def; "" for an empty string. Never NULL unless def is. */
const char *cs_onnx_attr_string (const cs_onnx_ctx *ctx, const char *name, const char *def,
                                 char *buf, size_t size);
/* Copies up to max ints; returns the count, -1 when absent, -2 when longer than max. */
int32_t cs_onnx_attr_ints (const cs_onnx_ctx *ctx, const char *name, int64_t *out, int32_t max);

/* Load-time evaluation of a node whose inputs are all constant. Returns CS_OK and binds its
 * outputs, CS_ERR_UNSUPPORTED (err untouched, *handled false) when it has no evaluator. */
cs_status cs_onnx_fold (cs_onnx_ctx *ctx, bool *handled, cs_error *err);

/* Converters: one per family. Return CS_OK having bound the node's outputs. */
typedef cs_status (*cs_onnx_convert_fn) (cs_onnx_ctx *ctx, cs_error *err);
cs_onnx_convert_fn cs_onnx_nn_converter (const char *op_type);
cs_onnx_convert_fn cs_onnx_layout_converter (const char *op_type);

/* Normalises a possibly negative axis for a rank; -1 when out of range. */
int32_t cs_onnx_axis (int64_t axis, int32_t rank);

/* a * b for non-negative sizes read from the file, saturating at INT64_MAX instead of
 * overflowing, so that a product of absurd dims compares unequal rather than wrapping. */
static inline int64_t
cs_onnx_mul_sat (int64_t a, int64_t b)
{
  int64_t r;
  return __builtin_mul_overflow (a, b, &r) ? INT64_MAX : r;
}
