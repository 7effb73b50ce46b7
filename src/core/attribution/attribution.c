/* The attribution driver: checks the parameters, fills defaults, resolves the target class and
 * the CAM layer, records the prediction, times the run and hands over to the method. */
#include "attribution/attribution.h"
#include "base/clock.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "attribution/method.h"
#include "base/softmax.h"

/* Bounds on the knobs, so that a typo never asks for hours of work or unbounded memory. */
#define MAX_SAMPLES 1000000
#define MAX_STEPS 100000

static cs_method_fn
method_function (cs_method m)
{
  switch (m)
    {
    case CS_METHOD_SALIENCY: return cs_method_saliency;
    case CS_METHOD_GUIDED_BACKPROP: return cs_method_guided_backprop;
    case CS_METHOD_DECONVNET: return cs_method_deconvnet;
    case CS_METHOD_GRADIENT_X_INPUT: return cs_method_gradient_x_input;
    case CS_METHOD_SMOOTHGRAD: return cs_method_smoothgrad;
    case CS_METHOD_INTEGRATED_GRADIENTS: return cs_method_integrated_gradients;
    case CS_METHOD_GRADCAM: return cs_method_gradcam;
    case CS_METHOD_GRADCAM_PP: return cs_method_gradcam_pp;
    case CS_METHOD_GUIDED_GRADCAM: return cs_method_guided_gradcam;
    case CS_METHOD_SCORECAM: return cs_method_scorecam;
    case CS_METHOD_LAYERCAM: return cs_method_layercam;
    case CS_METHOD_OCCLUSION: return cs_method_occlusion;
    case CS_METHOD_RISE: return cs_method_rise;
    default: return NULL;
    }
}

void
cs_occlusion_default_window (int64_t height, int64_t width, int32_t *window, int32_t *stride)
{
  /* Zeiler & Fergus slide a grey square over the image without fixing its size. A fixed 8 px
   * window at stride 4 costs ((224-8)/4+1)^2 = 3,025 forwards at 224 x 224: the window grows
   * with the input instead (1/14 of the shorter side, so that a 224 x 224 input is probed by
   * 16 px windows at stride 8, 729 forwards), and inputs up to 118 px keep 8 and 4. */
  int64_t side = height < width ? height : width;
  int64_t k = (side + 7) / 14;
  if (k < 8)
    k = 8;
  if (k > 4096)
    k = 4096;
  *window = (int32_t) k;
  *stride = (int32_t) (k / 2 > 0 ? k / 2 : 1);
}

/* Checks p and writes the parameters with defaults filled in into q (the occlusion window
 * depends on the input's height and width). */
static cs_status
fill_defaults (const cs_attribution_params *p, int64_t height, int64_t width,
               cs_attribution_params *q, cs_error *err)
{
  *q = *p;
  if (p->method < 0 || p->method >= CS_METHOD_COUNT)
    return cs_error_set (err, CS_ERR_ARGUMENT, "unknown attribution method %d", (int) p->method);
  const char *id = cs_method_id (p->method);
  if (p->samples < 0 || p->samples > MAX_SAMPLES)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: samples must be between 1 and %d, not %d", id,
                         MAX_SAMPLES, p->samples);
  if (p->steps < 0 || p->steps > MAX_STEPS)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: steps must be between 1 and %d, not %d", id,
                         MAX_STEPS, p->steps);
  if (!(p->noise >= 0) || !isfinite (p->noise))
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: noise must be a non-negative number", id);
  if (p->window < 0 || p->stride < 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: window and stride must be positive", id);
  if (p->baseline < CS_BASELINE_ZERO || p->baseline > CS_BASELINE_UNIFORM)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: unknown baseline %d", id, (int) p->baseline);
  if (p->target < -1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "class %d: not a class index", p->target);
  if ((p->unit_layer < 0) != (p->unit_channel < 0))
    return cs_error_set (err, CS_ERR_ARGUMENT, "a unit needs both a layer and a channel");
  if (q->samples == 0)
    q->samples = p->method == CS_METHOD_RISE ? 4000 : 50;
  if (q->noise == 0)
    q->noise = 0.15f;
  if (q->steps == 0)
    q->steps = 50;
  int32_t window, stride;
  cs_occlusion_default_window (height, width, &window, &stride);
  if (q->window == 0)
    q->window = window;
  if (q->stride == 0)
    q->stride = stride < q->window ? stride : q->window;
  return CS_OK;
}

/* The last spatial node that comes before node `before` (exclusive), or -1. */
static int32_t
last_spatial_before (const cs_graph *g, int32_t before)
{
  for (int32_t i = before - 1; i >= 0; i--)
    if (cs_graph_node_is_spatial (g, i))
      return i;
  return -1;
}

/* The CAM layer: -1 -> the last spatial node (in unit mode: the last one before the unit's
 * layer, since the gradient flows from the unit down to it); otherwise a batched 4-D node. */
static cs_status
resolve_layer (const cs_graph *g, int32_t layer, int32_t unit_layer, int32_t *out, cs_error *err)
{
  if (layer < 0)
    {
      *out = unit_layer >= 0 ? last_spatial_before (g, unit_layer) : cs_graph_last_spatial_node (g);
      if (*out < 0)
        return cs_error_set (err, CS_ERR_ARGUMENT, unit_layer >= 0
                             ? "no layer with a spatial output comes before the unit's layer"
                             : "the model has no layer with a spatial output for a CAM");
      return CS_OK;
    }
  if (unit_layer >= 0 && layer >= unit_layer && layer < g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "the CAM layer '%s' must come before the unit's layer '%s'",
                         g->nodes[layer].name, g->nodes[unit_layer].name);
  if (layer >= g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no node %d in the graph", layer);
  const cs_node *n = &g->nodes[layer];
  if (!n->batched || n->op == CS_OP_INPUT || n->shape.ndim != 4)
    return cs_error_set (err, CS_ERR_ARGUMENT,
                         "layer '%s' is not a CAM layer: its output must be a 4-D feature map", n->name);
  *out = layer;
  return CS_OK;
}

double
cs_attribution_now (void)
{
  return cs_clock_seconds (CLOCK_MONOTONIC);
}

cs_status
cs_attribution_run (cs_exec *e, const cs_tensor *input, const cs_attribution_params *p,
                    const cs_progress *progress, cs_attribution *out, cs_error *err)
{
  return cs_attribution_run_refined (e, input, p, progress, NULL, out, err);
}

cs_status
cs_attribution_run_refined (cs_exec *e, const cs_tensor *input, const cs_attribution_params *p,
                            const cs_progress *progress, const cs_refine *refine,
                            cs_attribution *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  out->layer = -1;
  double start = cs_attribution_now ();
  const cs_model *m = cs_exec_model (e);
  const cs_graph *g = m->graph;
  char want[128], got[128];

  cs_attribution_params q;
  if (refine != NULL && !(refine->budget_seconds >= 0 && isfinite (refine->budget_seconds)))
    return cs_error_set (err, CS_ERR_ARGUMENT, "the budget must be a non-negative number of seconds");
  int64_t in_h = input->shape.ndim == 4 ? input->shape.dim[2] : 1;
  int64_t in_w = input->shape.ndim == 4 ? input->shape.dim[3] : 1;
  cs_status st = fill_defaults (p, in_h, in_w, &q, err);
  if (st != CS_OK)
    return st;
  cs_method_fn fn = method_function (q.method);
  if (fn == NULL)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: not built into this library", cs_method_id (q.method));

  cs_shape expect = g->nodes[g->input_node].shape;
  if (!cs_shape_equal (&input->shape, &expect))
    return cs_error_set (err, CS_ERR_SHAPE, "input has shape %s, the model takes %s",
                         cs_shape_format (&input->shape, got, sizeof got),
                         cs_shape_format (&expect, want, sizeof want));
  int64_t numel = cs_tensor_numel (input);
  for (int64_t i = 0; i < numel; i++)
    if (!isfinite (input->data[i]))
      return cs_error_set (err, CS_ERR_ARGUMENT, "the input holds a non-finite value at element %lld",
                           (long long) i);

  cs_method_ctx ctx = { .exec = e, .model = m, .input = input, .p = &q, .progress = progress,
                        .target = -1, .layer = -1, .batch = cs_exec_max_batch (e),
                        .refine = refine,
                        .deadline = refine != NULL && refine->budget_seconds > 0
                                    ? start + refine->budget_seconds : 0 };
  if (cs_method_is_cam (q.method))
    {
      st = resolve_layer (g, q.layer, q.unit_layer, &ctx.layer, err);
      if (st != CS_OK)
        return st;
    }

  /* Attributions explain the network as deployed: inference mode (batch norm on running
   * statistics, no dropout), so that no sample of a batch depends on another. */
  bool was_training = cs_exec_training (e);
  cs_relu_rule rule = cs_exec_relu_rule (e);
  cs_exec_set_training (e, false);
  cs_exec_set_relu_rule (e, CS_RELU_RULE_GRADIENT);

  /* The prediction on the unperturbed input: target, its logit and probability. */
  st = cs_exec_forward (e, input, err);
  ctx.input_forward = cs_exec_forward_count (e);
  if (st == CS_OK)
    {
      const cs_tensor *logits = cs_exec_value (e, g->output_node);
      int64_t k = cs_tensor_numel (logits);
      int32_t best = 0;
      for (int64_t i = 1; i < k; i++)
        if (logits->data[i] > logits->data[best])
          best = (int32_t) i;
      ctx.target = q.target < 0 ? best : q.target;
      if (ctx.target >= k)
        st = cs_error_set (err, CS_ERR_ARGUMENT, "class %d: the model has %lld classes", ctx.target,
                           (long long) k);
      else
        {
          out->target_logit = logits->data[ctx.target];
          out->target_probability = (float) cs_softmax_at (logits->data, k, ctx.target);
        }
    }
  if (st == CS_OK && cs_progress_cancelled (progress))
    st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
  if (st == CS_OK)
    st = fn (&ctx, out, err);

  cs_exec_set_training (e, was_training);
  cs_exec_set_relu_rule (e, rule);
  if (st != CS_OK)
    {
      cs_attribution_free (out);
      return st;
    }
  out->method = q.method;
  out->target = ctx.target;
  out->layer = ctx.layer;
  out->seconds = cs_attribution_now () - start;
  if (!(out->completed > 0))
    out->completed = 1.0;
  cs_progress_report (progress, out->completed);
  return CS_OK;
}

void
cs_attribution_free (cs_attribution *a)
{
  if (a == NULL)
    return;
  cs_tensor_free (&a->raw);
  cs_tensor_free (&a->map);
  memset (a, 0, sizeof *a);
  a->layer = -1;
}

/* Methods that push one input through; a bigger batch only costs memory. */
static bool
single_pass (cs_method m)
{
  return m == CS_METHOD_SALIENCY || m == CS_METHOD_GUIDED_BACKPROP || m == CS_METHOD_DECONVNET
         || m == CS_METHOD_GRADIENT_X_INPUT || m == CS_METHOD_GRADCAM || m == CS_METHOD_GRADCAM_PP
         || m == CS_METHOD_GUIDED_GRADCAM || m == CS_METHOD_LAYERCAM;
}

/* Methods that only run forward: no gradient buffers. */
static bool
forward_only (cs_method m)
{
  return m == CS_METHOD_SCORECAM || m == CS_METHOD_OCCLUSION || m == CS_METHOD_RISE;
}

int32_t
cs_attribution_batch_hint (const cs_model *m, cs_method method, int64_t budget_bytes)
{
  if (single_pass (method))
    return 1;
  if (budget_bytes <= 0)
    budget_bytes = (int64_t) 1 << 30;
  const cs_graph *g = m->graph;
  /* Per sample: every batched activation, and its gradient when the method back-propagates
   * (the exec keeps both for the whole graph), plus the method's own copy of the input. */
  int64_t floats = 0;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      if (!n->batched)
        continue;
      int64_t k = cs_shape_numel (&n->shape);
      if (k < 0)
        return 1;
      floats += forward_only (method) ? k : 2 * k;
    }
  floats += cs_shape_numel (&g->nodes[g->input_node].shape);
  /* Scratch (im2col and friends) grows with the batch too; a third more covers it. */
  int64_t per_sample = floats * (int64_t) sizeof (float) * 4 / 3;
  if (per_sample <= 0)
    return 1;
  int64_t b = budget_bytes / per_sample;
  int64_t cap = 256; /* beyond this, GEMM is already as efficient as it gets */
  b = b < 1 ? 1 : b > cap ? cap : b;
  return (int32_t) b;
}
