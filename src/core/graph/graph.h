/* The computation graph: nodes in topological order, each producing one tensor.
 *
 * Every value is a node: the model input (CS_OP_INPUT), trainable parameters (CS_OP_PARAM,
 * whose data lives in cs_model so that checkpoints can swap it), constants (CS_OP_CONST, part
 * of the architecture) and operators. A node's inputs are ids of earlier nodes.
 *
 * Batch convention: nodes that depend on the model input are "batched": their shape's dim 0 is
 * the batch (1 in the graph, N at run time). Parameters and constants are not batched and keep
 * their full shape. Ops never mix samples, so dim 0 is simply scaled at run time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "base/tensor.h"

typedef enum {
  CS_OP_INPUT = 0,
  CS_OP_PARAM,
  CS_OP_CONST,
  /* linear algebra */
  CS_OP_CONV2D,        /* in: x[N,C,H,W], w[M,C/g,kh,kw], (b[M]) */
  CS_OP_GEMM,          /* in: a[N,K] (batched), b (param/const 2-D), (c broadcast to [N,M]) */
  CS_OP_MATMUL,        /* in: a[N,...,K] (batched), b[K,M] (param/const) */
  /* unary activations */
  CS_OP_RELU,
  CS_OP_LEAKY_RELU,    /* attrs.act.alpha = slope */
  CS_OP_CLIP,          /* attrs.act.alpha = min, attrs.act.beta = max (±INFINITY when absent) */
  CS_OP_SIGMOID,
  CS_OP_HARD_SIGMOID,  /* max(0, min(1, alpha*x + beta)) */
  CS_OP_HARD_SWISH,    /* x * max(0, min(1, x/6 + 1/2)) */
  CS_OP_TANH,
  CS_OP_ERF,
  CS_OP_SQRT,
  CS_OP_EXP,
  CS_OP_NEG,
  CS_OP_IDENTITY,
  CS_OP_DROPOUT,       /* attrs.dropout.p; identity unless the exec is training */
  /* binary, numpy broadcasting */
  CS_OP_ADD,
  CS_OP_SUB,
  CS_OP_MUL,
  CS_OP_DIV,
  CS_OP_POW,
  /* pooling and reduction */
  CS_OP_MAXPOOL,
  CS_OP_AVGPOOL,
  CS_OP_GLOBAL_AVGPOOL, /* [N,C,H,W] -> [N,C,1,1] */
  CS_OP_REDUCE_MEAN,    /* attrs.axes (never 0), attrs.axes.keepdims */
  /* normalisation */
  CS_OP_BATCHNORM,      /* in: x, scale, bias, running_mean, running_var */
  CS_OP_SOFTMAX,        /* attrs.axis.axis (>= 1) */
  /* layout */
  CS_OP_FLATTEN,        /* attrs.axis.axis: [N, ...] -> [N, prod(rest)] when axis == 1 */
  CS_OP_RESHAPE,        /* attrs.reshape: the target shape (dim 0 = batch, resolved at load) */
  CS_OP_TRANSPOSE,      /* attrs.axes: count = rank, axes[] = the permutation (axes[0] == 0) */
  CS_OP_SLICE,          /* attrs.slice */
  CS_OP_CONCAT,         /* attrs.axis.axis (>= 1) */
  CS_OP_PAD,            /* attrs.pad */
  CS_OP_COUNT
} cs_op;

/* Spatial window of conv2d and pools. pad = {top, left, bottom, right}. */
typedef struct {
  int32_t kernel[2];
  int32_t stride[2];
  int32_t pad[4];
  int32_t dilation[2];
  int32_t groups;            /* conv only */
  bool ceil_mode;            /* pools only */
  bool count_include_pad;    /* avgpool only */
} cs_window_attrs;

typedef struct {
  bool trans_b;              /* trans_a is rejected at import: a is always the batched input */
  float alpha, beta;
} cs_gemm_attrs;

typedef struct {
  float alpha, beta;         /* leaky slope; clip min/max; hard-sigmoid alpha/beta */
} cs_act_attrs;

typedef struct {
  float eps, momentum;       /* momentum as PyTorch: running = (1-m)*running + m*batch */
} cs_norm_attrs;

typedef struct {
  int32_t axis;
} cs_axis_attrs;

typedef struct {
  int32_t count;
  int32_t axes[CS_MAX_DIMS]; /* reduce-mean axes, transpose permutation */
  bool keepdims;
} cs_axes_attrs;

typedef struct {
  cs_shape shape;            /* full target shape; dim 0 is replaced by the batch at run time */
} cs_reshape_attrs;

typedef struct {
  /* per axis of the full shape: start, end (exclusive), step; already clamped at load */
  int64_t start[CS_MAX_DIMS], end[CS_MAX_DIMS], step[CS_MAX_DIMS];
} cs_slice_attrs;

typedef enum { CS_PAD_CONSTANT, CS_PAD_REFLECT, CS_PAD_EDGE } cs_pad_mode;

typedef struct {
  int64_t before[CS_MAX_DIMS], after[CS_MAX_DIMS]; /* never on dim 0 */
  float value;
  cs_pad_mode mode;
} cs_pad_attrs;

typedef struct {
  float p;
} cs_dropout_attrs;

typedef union {
  cs_window_attrs window;
  cs_gemm_attrs gemm;
  cs_act_attrs act;
  cs_norm_attrs norm;
  cs_axis_attrs axis;
  cs_axes_attrs axes;
  cs_reshape_attrs reshape;
  cs_slice_attrs slice;
  cs_pad_attrs pad;
  cs_dropout_attrs dropout;
} cs_attrs;

typedef struct {
  char *name;                /* unique within the graph (names and aliases together) */
  char *alias;               /* the name in the file when the display name differs, or NULL */
  char *source_op;           /* the op as the file named it ("Conv", "conv2d"); may be NULL */
  cs_op op;
  int32_t n_inputs;
  int32_t *inputs;           /* ids of earlier nodes */
  cs_attrs attrs;
  cs_shape shape;            /* output shape, dim 0 = 1 for batched nodes */
  bool batched;
  int32_t param_index;       /* CS_OP_PARAM: index into the model's weights; else -1 */
  cs_tensor value;           /* CS_OP_CONST: the data */
} cs_node;

typedef struct cs_graph {
  int32_t refcount;
  int32_t n_nodes, capacity;
  cs_node *nodes;
  int32_t input_node;        /* id of the CS_OP_INPUT node */
  int32_t output_node;       /* the logits */
  int32_t n_params;
  int32_t *param_nodes;      /* param index -> node id */
} cs_graph;

cs_graph *cs_graph_new (void);
cs_graph *cs_graph_ref (cs_graph *g);
void cs_graph_unref (cs_graph *g);

/* Adds the model input with its full shape (dim 0 = 1). Returns the node id or -1. */
int32_t cs_graph_add_input (cs_graph *g, const char *name, const cs_shape *shape, cs_error *err);
/* Adds a trainable parameter (shape only; data lives in cs_model). Returns the node id or -1. */
int32_t cs_graph_add_param (cs_graph *g, const char *name, const cs_shape *shape, cs_error *err);
/* Adds a constant; takes ownership of value. Returns the node id or -1. */
int32_t cs_graph_add_const (cs_graph *g, const char *name, cs_tensor *value, cs_error *err);
/* Adds an operator node, checks its inputs and infers its shape. Returns the node id or -1,
 * with a message like "node 'conv1' (conv2d): weight has 3 input channels, input has 1". */
int32_t cs_graph_add_op (cs_graph *g, cs_op op, const char *name, const char *source_op,
                         const int32_t *inputs, int32_t n_inputs, const cs_attrs *attrs,
                         cs_error *err);

/* The node named (or aliased) name: id or -1. */
int32_t cs_graph_find (const cs_graph *g, const char *name);

/* Renames ONNX scope-path nodes ("/layer1/layer1.0/conv1/Conv") to their PyTorch module names
 * ("layer1.0.conv1"), keeping the old name as the alias; names that would clash stay. */
void cs_graph_derive_display_names (cs_graph *g);

/* Number of parameter elements feeding node id directly (its weights, bias, BN stats). */
int64_t cs_graph_node_parameters (const cs_graph *g, int32_t id);
/* Floating-point operations of one forward pass of node id at batch 1 (multiply-add = 2). */
int64_t cs_graph_node_flops (const cs_graph *g, int32_t id);

/* Whether node id's output is spatial: batched, not the input, 4-D with H, W > 1 (what CAM
 * methods need of their layer). */
bool cs_graph_node_is_spatial (const cs_graph *g, int32_t id);
/* The last spatial node: the default CAM layer. */
int32_t cs_graph_last_spatial_node (const cs_graph *g);
/* The conv/linear node whose output channels are layer's channels (whose filters the filter
 * gallery and the unit inspector show): layer itself or the nearest one up its first-input
 * chain with the same channel count; -1 when there is none. */
int32_t cs_graph_weight_node (const cs_graph *g, int32_t layer);

/* Default attributes for an op (stride 1, groups 1, alpha 1, eps 1e-5 ...). */
cs_attrs cs_attrs_default (cs_op op);
