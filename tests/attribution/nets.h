/* Small hand-built networks for the attribution tests, and helpers to run a method on them. */
#pragma once

#include <string.h>

#include "attribution/attribution.h"
#include "base/rng.h"
#include "exec/exec.h"
#include "gradcheck.h"
#include "testlib.h"

static inline int32_t
net_param (cs_graph *g, const char *name, cs_shape s, cs_error *err)
{
  return cs_graph_add_param (g, name, &s, err);
}

static inline int32_t
net_conv (cs_graph *g, const char *name, int32_t x, int64_t cin, int64_t cout, int32_t k,
          int32_t pad, bool bias, cs_error *err)
{
  char wn[64], bn[64];
  snprintf (wn, sizeof wn, "%s.weight", name);
  snprintf (bn, sizeof bn, "%s.bias", name);
  cs_attrs a = cs_attrs_default (CS_OP_CONV2D);
  a.window.kernel[0] = a.window.kernel[1] = k;
  for (int i = 0; i < 4; i++)
    a.window.pad[i] = pad;
  int32_t w = net_param (g, wn, cs_shape_4d (cout, cin, k, k), err);
  if (!bias)
    return cs_graph_add_op (g, CS_OP_CONV2D, name, NULL, (int32_t[]) { x, w }, 2, &a, err);
  int32_t b = net_param (g, bn, cs_shape_make (1, (int64_t[]) { cout }), err);
  return cs_graph_add_op (g, CS_OP_CONV2D, name, NULL, (int32_t[]) { x, w, b }, 3, &a, err);
}

static inline int32_t
net_linear (cs_graph *g, const char *name, int32_t x, int64_t in, int64_t out, cs_error *err)
{
  char wn[64], bn[64];
  snprintf (wn, sizeof wn, "%s.weight", name);
  snprintf (bn, sizeof bn, "%s.bias", name);
  cs_attrs a = cs_attrs_default (CS_OP_GEMM);
  a.gemm.trans_b = true;
  int32_t w = net_param (g, wn, cs_shape_make (2, (int64_t[]) { out, in }), err);
  int32_t b = net_param (g, bn, cs_shape_make (1, (int64_t[]) { out }), err);
  return cs_graph_add_op (g, CS_OP_GEMM, name, NULL, (int32_t[]) { x, w, b }, 3, &a, err);
}

static inline int32_t
net_unary (cs_graph *g, cs_op op, const char *name, int32_t x, cs_error *err)
{
  return cs_graph_add_op (g, op, name, NULL, (int32_t[]) { x }, 1, NULL, err);
}

static inline int32_t
net_bn (cs_graph *g, const char *name, int32_t x, int64_t c, cs_error *err)
{
  const char *suffix[4] = { "weight", "bias", "running_mean", "running_var" };
  int32_t in[5] = { x };
  for (int i = 0; i < 4; i++)
    {
      char pn[64];
      snprintf (pn, sizeof pn, "%s.%s", name, suffix[i]);
      in[i + 1] = net_param (g, pn, cs_shape_make (1, (int64_t[]) { c }), err);
    }
  return cs_graph_add_op (g, CS_OP_BATCHNORM, name, NULL, in, 5, NULL, err);
}

/* conv(2->4, 3x3, pad 1) - relu - maxpool 2 - flatten - linear(4*4*4 -> 5), input 2x8x8 */
static inline cs_model *
net_plain (uint64_t seed, cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 2, 8, 8);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  int32_t c1 = net_conv (g, "conv1", x, 2, 4, 3, 1, true, err);
  int32_t r1 = net_unary (g, CS_OP_RELU, "relu1", c1, err);
  cs_attrs pool = cs_attrs_default (CS_OP_MAXPOOL);
  pool.window.kernel[0] = pool.window.kernel[1] = 2;
  pool.window.stride[0] = pool.window.stride[1] = 2;
  int32_t p1 = cs_graph_add_op (g, CS_OP_MAXPOOL, "pool1", NULL, (int32_t[]) { r1 }, 1, &pool, err);
  int32_t fl = net_unary (g, CS_OP_FLATTEN, "flatten", p1, err);
  int32_t fc = net_linear (g, "fc", fl, 64, 5, err);
  if (fc < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  cs_model *m = cs_model_new (g, err);
  cs_graph_unref (g);
  if (m != NULL)
    cs_model_init_weights (m, seed);
  return m;
}

/* conv-bn-relu, then a residual block (conv-bn-relu-conv-bn + skip, relu), global average
 * pool, linear to 3 classes; input 3x8x8, `width` channels throughout. Batch-norm statistics
 * are made non-trivial. */
static inline cs_model *
net_residual_width (uint64_t seed, int64_t width, cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 3, 8, 8);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  int32_t c1 = net_conv (g, "conv1", x, 3, width, 3, 1, false, err);
  int32_t b1 = net_bn (g, "bn1", c1, width, err);
  int32_t r1 = net_unary (g, CS_OP_RELU, "relu1", b1, err);
  int32_t c2 = net_conv (g, "conv2", r1, width, width, 3, 1, false, err);
  int32_t b2 = net_bn (g, "bn2", c2, width, err);
  int32_t r2 = net_unary (g, CS_OP_RELU, "relu2", b2, err);
  int32_t c3 = net_conv (g, "conv3", r2, width, width, 3, 1, false, err);
  int32_t b3 = net_bn (g, "bn3", c3, width, err);
  int32_t add = cs_graph_add_op (g, CS_OP_ADD, "add", NULL, (int32_t[]) { b3, r1 }, 2, NULL, err);
  int32_t r3 = net_unary (g, CS_OP_RELU, "relu3", add, err);
  int32_t gap = net_unary (g, CS_OP_GLOBAL_AVGPOOL, "gap", r3, err);
  int32_t fl = net_unary (g, CS_OP_FLATTEN, "flatten", gap, err);
  int32_t fc = net_linear (g, "fc", fl, width, 3, err);
  if (fc < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  cs_model *m = cs_model_new (g, err);
  cs_graph_unref (g);
  if (m == NULL)
    return NULL;
  cs_model_init_weights (m, seed);
  cs_rng rng;
  cs_rng_seed (&rng, seed + 1);
  for (int32_t p = 0; p < g->n_params; p++)
    {
      const char *name = g->nodes[g->param_nodes[p]].name;
      cs_tensor *w = &m->weights[p];
      if (strstr (name, "bn") == NULL)
        continue;
      if (strstr (name, "running_var") || strstr (name, "weight"))
        cs_fill_uniform (w, &rng, 0.5f, 1.5f);
      else
        cs_fill_uniform (w, &rng, -0.3f, 0.3f);
    }
  return m;
}

/* net_residual_width with 4 channels. */
static inline cs_model *
net_residual (uint64_t seed, cs_error *err)
{
  return net_residual_width (seed, 4, err);
}

/* The linear model of the occlusion test: logit_k = mean over pixels of w_k * x_k (one class
 * per input channel), built from mul, global average pool and flatten. Input C x H x W. */
static inline cs_model *
net_linear_model (int64_t c, int64_t h, int64_t w, uint64_t seed, cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, c, h, w);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  int32_t wt = net_param (g, "w", cs_shape_4d (1, c, h, w), err);
  int32_t mul = cs_graph_add_op (g, CS_OP_MUL, "mul", NULL, (int32_t[]) { x, wt }, 2, NULL, err);
  int32_t gap = net_unary (g, CS_OP_GLOBAL_AVGPOOL, "gap", mul, err);
  int32_t fl = net_unary (g, CS_OP_FLATTEN, "flatten", gap, err);
  if (fl < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  cs_model *m = cs_model_new (g, err);
  cs_graph_unref (g);
  if (m == NULL)
    return NULL;
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  cs_fill_uniform (&m->weights[0], &rng, -1.0f, 1.0f);
  return m;
}

/* A random input for model m, batch 1. */
static inline void
net_input (const cs_model *m, uint64_t seed, cs_tensor *x)
{
  cs_shape s = cs_shape_4d (1, m->channels, m->height, m->width);
  cs_tensor_alloc (x, &s, NULL);
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  cs_fill_uniform (x, &rng, -1.0f, 1.0f);
}

/* Runs method with params p on a fresh exec of max batch `batch`; returns the status. */
static inline cs_status
net_explain (const cs_model *m, int32_t batch, const cs_tensor *x, const cs_attribution_params *p,
             const cs_progress *progress, cs_attribution *out, cs_error *err)
{
  cs_exec *e = cs_exec_new (m, batch, err);
  if (e == NULL)
    {
      memset (out, 0, sizeof *out);
      return err->code;
    }
  cs_status st = cs_attribution_run (e, x, p, progress, out, err);
  cs_exec_free (e);
  return st;
}

/* The largest |a - b| relative to max |b| (0 when both are empty). */
static inline double
net_rel_diff (const cs_tensor *a, const cs_tensor *b)
{
  int64_t n = cs_tensor_numel (a);
  if (n != cs_tensor_numel (b))
    return INFINITY;
  double d = 0, s = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double e = fabs ((double) a->data[i] - (double) b->data[i]);
      d = e > d ? e : d;
      s = fabs ((double) b->data[i]) > s ? fabs ((double) b->data[i]) : s;
    }
  return s > 0 ? d / s : d;
}
