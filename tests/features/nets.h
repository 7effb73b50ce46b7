/* Hand-built networks for the feature tests. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "base/rng.h"
#include "exec/exec.h"
#include "gradcheck.h"
#include "testlib.h"

/* conv2d with full control of the window; weights named <name>.weight / .bias. */
static inline int32_t
fnet_conv (cs_graph *g, const char *name, int32_t x, int64_t cin, int64_t cout, int32_t k,
           int32_t stride, int32_t pad, int32_t dilation, cs_error *err)
{
  char wn[64], bn[64];
  snprintf (wn, sizeof wn, "%s.weight", name);
  snprintf (bn, sizeof bn, "%s.bias", name);
  cs_attrs a = cs_attrs_default (CS_OP_CONV2D);
  a.window.kernel[0] = a.window.kernel[1] = k;
  a.window.stride[0] = a.window.stride[1] = stride;
  a.window.dilation[0] = a.window.dilation[1] = dilation;
  for (int i = 0; i < 4; i++)
    a.window.pad[i] = pad;
  cs_shape ws = cs_shape_4d (cout, cin, k, k), bs = cs_shape_make (1, (int64_t[]) { cout });
  int32_t w = cs_graph_add_param (g, wn, &ws, err);
  int32_t b = cs_graph_add_param (g, bn, &bs, err);
  return cs_graph_add_op (g, CS_OP_CONV2D, name, NULL, (int32_t[]) { x, w, b }, 3, &a, err);
}

static inline int32_t
fnet_pool (cs_graph *g, cs_op op, const char *name, int32_t x, int32_t k, int32_t stride, int32_t pad,
           cs_error *err)
{
  cs_attrs a = cs_attrs_default (op);
  a.window.kernel[0] = a.window.kernel[1] = k;
  a.window.stride[0] = a.window.stride[1] = stride;
  for (int i = 0; i < 4; i++)
    a.window.pad[i] = pad;
  a.window.count_include_pad = true;
  return cs_graph_add_op (g, op, name, NULL, (int32_t[]) { x }, 1, &a, err);
}

static inline int32_t
fnet_unary (cs_graph *g, cs_op op, const char *name, int32_t x, cs_error *err)
{
  return cs_graph_add_op (g, op, name, NULL, (int32_t[]) { x }, 1, NULL, err);
}

static inline int32_t
fnet_linear (cs_graph *g, const char *name, int32_t x, int64_t in, int64_t out, cs_error *err)
{
  char wn[64], bn[64];
  snprintf (wn, sizeof wn, "%s.weight", name);
  snprintf (bn, sizeof bn, "%s.bias", name);
  cs_attrs a = cs_attrs_default (CS_OP_GEMM);
  a.gemm.trans_b = true;
  cs_shape ws = cs_shape_make (2, (int64_t[]) { out, in }), bs = cs_shape_make (1, (int64_t[]) { out });
  int32_t w = cs_graph_add_param (g, wn, &ws, err);
  int32_t b = cs_graph_add_param (g, bn, &bs, err);
  return cs_graph_add_op (g, CS_OP_GEMM, name, NULL, (int32_t[]) { x, w, b }, 3, &a, err);
}

/* A model over g (consumed), weights from PyTorch's initialisation with seed. */
static inline cs_model *
fnet_model (cs_graph *g, uint64_t seed, cs_error *err)
{
  cs_model *m = cs_model_new (g, err);
  cs_graph_unref (g);
  if (m != NULL)
    cs_model_init_weights (m, seed);
  return m;
}

/* A small classifier on c×h×w: conv(c->8,3,p1)-relu-pool2-conv(8->16,3,p1)-relu-pool2-flatten-fc(->10). */
static inline cs_model *
fnet_cnn (int64_t c, int64_t h, int64_t w, uint64_t seed, cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, c, h, w);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  x = fnet_conv (g, "conv1", x, c, 8, 3, 1, 1, 1, err);
  x = fnet_unary (g, CS_OP_RELU, "relu1", x, err);
  x = fnet_pool (g, CS_OP_MAXPOOL, "pool1", x, 2, 2, 0, err);
  x = fnet_conv (g, "conv2", x, 8, 16, 3, 1, 1, 1, err);
  x = fnet_unary (g, CS_OP_RELU, "relu2", x, err);
  x = fnet_pool (g, CS_OP_MAXPOOL, "pool2", x, 2, 2, 0, err);
  x = fnet_unary (g, CS_OP_FLATTEN, "flatten", x, err);
  x = fnet_linear (g, "fc", x, 16 * (h / 4) * (w / 4), 10, err);
  if (x < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  return fnet_model (g, seed, err);
}
