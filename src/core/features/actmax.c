/* Activation maximisation: Adam ascent on an image parameterisation (image_param.c) through
 * random transforms (transform.c), a group of units per batch. Each unit draws its random
 * numbers from its own generator (seed and channel), so a unit's image does not depend on which
 * other units share its batch. */
#include "features/actmax.h"
#include "base/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rng.h"
#include "features/transform.h"

int32_t
cs_actmax_unit_count (const cs_graph *g, int32_t node)
{
  if (node < 0 || node >= g->n_nodes)
    return -1;
  const cs_node *n = &g->nodes[node];
  if (!n->batched || (n->shape.ndim != 2 && n->shape.ndim != 4))
    return -1;
  return (int32_t) n->shape.dim[1];
}

void
cs_actmax_result_free (cs_actmax_result *r)
{
  if (r == NULL)
    return;
  free (r->units);
  cs_tensor_free (&r->images);
  free (r->trace);
  free (r->initial);
  free (r->final);
  memset (r, 0, sizeof *r);
}

/* The buffers of one group of up to `batch` units. */
typedef struct {
  const cs_actmax_params *p;
  cs_exec *e;
  const cs_model *m;
  int32_t node, c, h, w, jitter;
  int32_t seed_node;         /* where the gradient starts: the node, or its ReLU's input */
  int64_t chw, plane;        /* input floats per image; positions per channel of the node */
  cs_image_param ip;
  float *params, *adam_m, *adam_v, *rgb, *grad_rgb, *grad_params, *x, *scratch;
  float *scores;
  cs_tensor seed;            /* [batch, node dims...] */
  cs_rng *rng;
  cs_transform *tf;
} actmax_state;

static void
state_free (actmax_state *s)
{
  cs_image_param_free (&s->ip);
  cs_free_floats (s->params);
  cs_free_floats (s->adam_m);
  cs_free_floats (s->adam_v);
  cs_free_floats (s->rgb);
  cs_free_floats (s->grad_rgb);
  cs_free_floats (s->grad_params);
  cs_free_floats (s->x);
  cs_free_floats (s->scratch);
  free (s->scores);
  cs_tensor_free (&s->seed);
  free (s->rng);
  free (s->tf);
}

static cs_status
state_init (actmax_state *s, cs_exec *e, int32_t node, int32_t batch, const cs_actmax_params *p,
            cs_error *err)
{
  memset (s, 0, sizeof *s);
  s->p = p;
  s->e = e;
  s->m = cs_exec_model (e);
  s->node = node;
  s->c = s->m->channels;
  s->h = s->m->height;
  s->w = s->m->width;
  s->chw = (int64_t) s->c * s->h * s->w;
  s->jitter = p->jitter >= 0 ? p->jitter : (s->w + 15) / 16;
  const cs_node *nd = &s->m->graph->nodes[node];
  s->plane = nd->shape.ndim == 4 ? nd->shape.dim[2] * nd->shape.dim[3] : 1;
  s->seed_node = node;
  if (nd->op == CS_OP_RELU && cs_shape_equal (&s->m->graph->nodes[nd->inputs[0]].shape, &nd->shape))
    s->seed_node = nd->inputs[0];
  cs_status st = cs_image_param_init (&s->ip, p->param, s->c, s->h, s->w, err);
  if (st != CS_OK)
    return st;
  int64_t np = s->ip.per_image * batch;
  s->params = cs_alloc_floats (np);
  s->adam_m = cs_alloc_floats (np);
  s->adam_v = cs_alloc_floats (np);
  s->grad_params = cs_alloc_floats (s->ip.per_image);
  s->rgb = cs_alloc_floats (s->chw * batch);
  s->grad_rgb = cs_alloc_floats (s->chw);
  s->x = cs_alloc_floats (s->chw * batch);
  s->scratch = cs_alloc_floats ((int64_t) s->h * s->w);
  s->scores = calloc ((size_t) batch, sizeof (float));
  s->rng = calloc ((size_t) batch, sizeof (cs_rng));
  s->tf = calloc ((size_t) batch, sizeof (cs_transform));
  cs_shape ss = nd->shape;
  ss.dim[0] = batch;
  if (s->params == NULL || s->adam_m == NULL || s->adam_v == NULL || s->grad_params == NULL
      || s->rgb == NULL || s->grad_rgb == NULL || s->x == NULL || s->scratch == NULL
      || s->scores == NULL || s->rng == NULL || s->tf == NULL
      || cs_tensor_alloc (&s->seed, &ss, err) != CS_OK)
    {
      state_free (s);
      return cs_error_set (err, CS_ERR_MEMORY, "activation maximisation: out of memory");
    }
  return CS_OK;
}

/* Renders every image of the group into s->rgb. */
static void
render_all (actmax_state *s, int32_t n)
{
  for (int32_t i = 0; i < n; i++)
    cs_image_param_render (&s->ip, s->params + i * s->ip.per_image, s->rgb + i * s->chw);
}

/* s->x = the normalised input of each rgb image, through s->tf[i] when transformed. */
static void
make_input (actmax_state *s, int32_t n, bool transformed)
{
  int64_t hw = (int64_t) s->h * s->w;
  for (int32_t i = 0; i < n; i++)
    {
      float *x = s->x + i * s->chw;
      if (transformed)
        cs_transform_apply (&s->tf[i], s->rgb + i * s->chw, s->c, s->h, s->w, 0.5f, x);
      else
        memcpy (x, s->rgb + i * s->chw, (size_t) s->chw * sizeof (float));
      for (int32_t ch = 0; ch < s->c; ch++)
        {
          float mean = ch < 4 ? s->m->mean[ch] : 0, inv = ch < 4 ? 1.0f / s->m->std[ch] : 1;
          for (int64_t k = 0; k < hw; k++)
            x[ch * hw + k] = (x[ch * hw + k] - mean) * inv;
        }
    }
}

/* Forward to the node; s->scores[i] = the mean activation of unit units[i]. */
static cs_status
forward_scores (actmax_state *s, const int32_t *units, int32_t n, cs_error *err)
{
  cs_shape xs = cs_shape_4d (n, s->c, s->h, s->w);
  cs_tensor xin = cs_tensor_view (&xs, s->x);
  cs_status st = cs_exec_forward_until (s->e, &xin, s->node, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *v = cs_exec_value (s->e, s->node);
  int64_t per = cs_tensor_numel (v) / n;
  for (int32_t i = 0; i < n; i++)
    {
      const float *a = v->data + i * per + (int64_t) units[i] * s->plane;
      double sum = 0;
      for (int64_t k = 0; k < s->plane; k++)
        sum += a[k];
      s->scores[i] = (float) (sum / (double) s->plane);
    }
  return CS_OK;
}

static uint64_t
unit_seed (uint64_t seed, int32_t unit)
{
  return seed ^ (0x9E3779B97F4A7C15ull * (uint64_t) (unit + 1));
}

/* One group: units[0 .. n) written to rows first .. first + n of out. */
static cs_status
run_group (actmax_state *s, const int32_t *units, int32_t n, int32_t first, int32_t group,
           int32_t n_groups, cs_actmax_step_fn step_fn, void *user_data,
           const cs_progress *progress, cs_actmax_result *out, cs_error *err)
{
  const cs_actmax_params *p = s->p;
  int64_t per = s->ip.per_image, hw = (int64_t) s->h * s->w;
  memset (s->adam_m, 0, (size_t) (per * n) * sizeof (float));
  memset (s->adam_v, 0, (size_t) (per * n) * sizeof (float));
  for (int32_t i = 0; i < n; i++)
    {
      cs_rng_seed (&s->rng[i], unit_seed (p->seed, units[i]));
      cs_image_param_randomize (&s->ip, &s->rng[i], p->init_sd, s->params + i * per);
    }
  render_all (s, n);
  make_input (s, n, false);
  cs_status st = forward_scores (s, units, n, err);
  if (st != CS_OK)
    return st;
  for (int32_t i = 0; i < n; i++)
    out->initial[first + i] = s->scores[i];

  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  double b1t = 1, b2t = 1;
  int64_t seed_per = cs_tensor_numel (&s->seed) / s->seed.shape.dim[0];
  for (int32_t step = 1; step <= p->steps; step++)
    {
      if (cs_progress_cancelled (progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "activation maximisation cancelled");
      for (int32_t i = 0; i < n; i++)
        s->tf[i] = cs_transform_random (&s->rng[i], s->jitter, p->scale_range, p->rotate_degrees);
      make_input (s, n, true);
      if ((st = forward_scores (s, units, n, err)) != CS_OK)
        return st;
      for (int32_t i = 0; i < n; i++)
        out->trace[(int64_t) (first + i) * p->steps + step - 1] = s->scores[i];

      /* d mean / d node = 1/plane on the unit's channel. At a ReLU the seed goes to its input
       * as the gradient of a leaky ReLU whose slope fades from 0.1 to 0 over the run: a unit
       * that no position excites at the start would otherwise get no gradient at all (Lucid
       * redirects the ReLU gradient at the start for the same reason). */
      cs_tensor seed = s->seed;
      seed.shape.dim[0] = n;
      memset (seed.data, 0, (size_t) (seed_per * n) * sizeof (float));
      const float *z = cs_exec_value (s->e, s->seed_node)->data;
      float leak = s->seed_node != s->node ? 0.1f * (1.0f - (float) (step - 1) / (float) p->steps) : 1.0f;
      for (int32_t i = 0; i < n; i++)
        for (int64_t k = 0; k < s->plane; k++)
          {
            int64_t at = i * seed_per + (int64_t) units[i] * s->plane + k;
            seed.data[at] = (z[at] > 0 ? 1.0f : leak) / (float) s->plane;
          }
      if ((st = cs_exec_backward (s->e, s->seed_node, &seed, CS_GRAD_INPUT, err)) != CS_OK)
        return st;
      const cs_tensor *gx = cs_exec_grad (s->e, s->m->graph->input_node);
      if (gx == NULL)
        return cs_error_set (err, CS_ERR_ARGUMENT, "node '%s' does not depend on the input",
                             s->m->graph->nodes[s->node].name);

      b1t *= b1;
      b2t *= b2;
      float lr1 = p->learning_rate / (float) (1.0 - b1t), c2 = (float) (1.0 / (1.0 - b2t));
      for (int32_t i = 0; i < n; i++)
        {
          /* d score / d display image: through the normalisation, then the transform's adjoint */
          float *gd = s->x + i * s->chw; /* the input is no longer needed: reuse it */
          const float *g = gx->data + i * s->chw;
          for (int32_t ch = 0; ch < s->c; ch++)
            {
              float inv = ch < 4 ? 1.0f / s->m->std[ch] : 1;
              for (int64_t k = 0; k < hw; k++)
                gd[ch * hw + k] = g[ch * hw + k] * inv;
            }
          const float *rgb = s->rgb + i * s->chw;
          float decay = 2.0f * p->l2_decay / (float) s->chw;
          for (int64_t k = 0; k < s->chw; k++)
            s->grad_rgb[k] = -decay * (rgb[k] - 0.5f);
          cs_transform_adjoint (&s->tf[i], gd, s->c, s->h, s->w, s->grad_rgb);
          cs_image_param_backward (&s->ip, rgb, s->grad_rgb, s->grad_params);
          /* Adam, ascending */
          float *w = s->params + i * per, *mm = s->adam_m + i * per, *vv = s->adam_v + i * per;
          for (int64_t k = 0; k < per; k++)
            {
              float gk = s->grad_params[k];
              mm[k] = b1 * mm[k] + (1 - b1) * gk;
              vv[k] = b2 * vv[k] + (1 - b2) * gk * gk;
              w[k] += lr1 * mm[k] / (sqrtf (vv[k] * c2) + eps);
            }
          if (p->param == CS_IMAGE_PARAM_PIXEL && p->blur_sigma > 0)
            cs_image_blur (w, s->c, s->h, s->w, p->blur_sigma, s->scratch);
        }
      render_all (s, n);
      if (step_fn != NULL)
        {
          cs_actmax_step info = { step, p->steps, first, n, s->c, s->h, s->w, s->rgb, s->scores };
          step_fn (user_data, &info);
        }
      cs_progress_report (progress, ((double) group * p->steps + step) / ((double) n_groups * p->steps));
    }
  memcpy (out->images.data + first * s->chw, s->rgb, (size_t) (n * s->chw) * sizeof (float));
  make_input (s, n, false);
  if ((st = forward_scores (s, units, n, err)) != CS_OK)
    return st;
  for (int32_t i = 0; i < n; i++)
    out->final[first + i] = s->scores[i];
  return CS_OK;
}

cs_status
cs_actmax_run (cs_exec *e, int32_t node, const int32_t *units, int32_t n_units,
               const cs_actmax_params *p, cs_actmax_step_fn step_fn, void *user_data,
               const cs_progress *progress, cs_actmax_result *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  const cs_model *m = cs_exec_model (e);
  const cs_graph *g = m->graph;
  int32_t count = cs_actmax_unit_count (g, node);
  if (node < 0 || node >= g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no node %d in the graph", node);
  if (count < 0)
    return cs_error_set (err, CS_ERR_ARGUMENT,
                         "node '%s' has no units: activation maximisation needs a batched 2-D or 4-D node",
                         g->nodes[node].name);
  if (n_units < 1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no units to visualise");
  for (int32_t i = 0; i < n_units; i++)
    if (units[i] < 0 || units[i] >= count)
      return cs_error_set (err, CS_ERR_ARGUMENT, "node '%s' has %d units; there is no unit %d",
                           g->nodes[node].name, count, units[i]);
  if (p->steps < 1 || p->steps > 1000000 || !(p->learning_rate > 0) || !(p->scale_range >= 0)
      || p->scale_range >= 1 || !(p->init_sd >= 0) || !(p->rotate_degrees >= 0)
      || !(p->l2_decay >= 0) || !(p->blur_sigma >= 0) || p->blur_sigma > 10)
    return cs_error_set (err, CS_ERR_ARGUMENT, "activation maximisation: parameter out of range");
  if (m->channels < 1 || m->height < 1 || m->width < 1)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "activation maximisation needs an image input");

  int32_t batch = cs_exec_max_batch (e);
  if (batch > n_units)
    batch = n_units;
  out->node = node;
  out->n_units = n_units;
  out->steps = p->steps;
  out->units = malloc ((size_t) n_units * sizeof (int32_t));
  out->trace = calloc ((size_t) n_units * (size_t) p->steps, sizeof (float));
  out->initial = calloc ((size_t) n_units, sizeof (float));
  out->final = calloc ((size_t) n_units, sizeof (float));
  cs_shape is = cs_shape_4d (n_units, m->channels, m->height, m->width);
  if (out->units == NULL || out->trace == NULL || out->initial == NULL || out->final == NULL
      || cs_tensor_alloc (&out->images, &is, err) != CS_OK)
    {
      cs_actmax_result_free (out);
      return cs_error_set (err, CS_ERR_MEMORY, "activation maximisation: out of memory");
    }
  memcpy (out->units, units, (size_t) n_units * sizeof (int32_t));

  actmax_state s;
  cs_status st = state_init (&s, e, node, batch, p, err);
  if (st != CS_OK)
    {
      cs_actmax_result_free (out);
      return st;
    }
  bool training = cs_exec_training (e);
  cs_relu_rule rule = cs_exec_relu_rule (e);
  cs_exec_set_training (e, false);
  cs_exec_set_relu_rule (e, CS_RELU_RULE_GRADIENT);
  int32_t n_groups = (n_units + batch - 1) / batch;
  for (int32_t gi = 0; gi < n_groups && st == CS_OK; gi++)
    {
      int32_t first = gi * batch, n = n_units - first < batch ? n_units - first : batch;
      st = run_group (&s, units + first, n, first, gi, n_groups, step_fn, user_data, progress, out, err);
    }
  cs_exec_set_training (e, training);
  cs_exec_set_relu_rule (e, rule);
  state_free (&s);
  if (st != CS_OK)
    {
      cs_actmax_result_free (out);
      return st;
    }
  out->seconds = cs_clock_seconds (CLOCK_MONOTONIC) - t0;
  return CS_OK;
}
