/* Optimizer updates written as PyTorch's single-tensor code paths do them, float by float, so
 * that one step here and one step there agree to rounding. */
#include "training/optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cs_optimizer {
  cs_optimizer_config cfg;
  int32_t n_params;
  bool *trainable;
  int64_t steps;
  int32_t n_states;
  cs_model *state[2];
};

static const char *const sgd_states[] = { "momentum_buffer" };
static const char *const adam_states[] = { "exp_avg", "exp_avg_sq" };

cs_optimizer_config
cs_optimizer_config_default (cs_optimizer_kind kind)
{
  cs_optimizer_config c = { .kind = kind, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 };
  c.lr = kind == CS_OPTIMIZER_ADAM ? 1e-3 : 0.01;
  c.momentum = kind == CS_OPTIMIZER_SGD ? 0.9 : 0.0;
  return c;
}

const char *
cs_optimizer_kind_name (cs_optimizer_kind kind)
{
  return kind == CS_OPTIMIZER_ADAM ? "adam" : "sgd";
}

bool
cs_optimizer_kind_parse (const char *name, cs_optimizer_kind *kind)
{
  if (strcmp (name, "sgd") == 0)
    *kind = CS_OPTIMIZER_SGD;
  else if (strcmp (name, "adam") == 0)
    *kind = CS_OPTIMIZER_ADAM;
  else
    return false;
  return true;
}

void
cs_optimizer_free (cs_optimizer *o)
{
  if (o == NULL)
    return;
  for (int32_t i = 0; i < o->n_states; i++)
    cs_model_free (o->state[i]);
  free (o->trainable);
  free (o);
}

cs_optimizer *
cs_optimizer_new (const cs_model *m, const cs_optimizer_config *cfg, cs_error *err)
{
  if (!(cfg->lr > 0) || !isfinite (cfg->lr) || !(cfg->momentum >= 0 && cfg->momentum < 1)
      || !(cfg->weight_decay >= 0) || !isfinite (cfg->weight_decay))
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "learning rate %g must be positive, momentum %g in [0, 1), "
                    "weight decay %g non-negative", cfg->lr, cfg->momentum, cfg->weight_decay);
      return NULL;
    }
  if (cfg->kind == CS_OPTIMIZER_ADAM
      && !(cfg->beta1 >= 0 && cfg->beta1 < 1 && cfg->beta2 >= 0 && cfg->beta2 < 1 && cfg->eps > 0))
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "Adam betas (%g, %g) must lie in [0, 1) and eps %g be positive",
                    cfg->beta1, cfg->beta2, cfg->eps);
      return NULL;
    }
  const cs_graph *g = m->graph;
  cs_optimizer *o = calloc (1, sizeof *o);
  size_t n_params = (size_t) (g->n_params > 0 ? g->n_params : 1);
  if (o == NULL || (o->trainable = calloc (n_params, sizeof (bool))) == NULL)
    {
      free (o);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  o->cfg = *cfg;
  o->n_params = g->n_params;
  for (int32_t p = 0; p < g->n_params; p++)
    o->trainable[p] = true;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      if (n->op != CS_OP_BATCHNORM)
        continue;
      for (int32_t i = 3; i < n->n_inputs && i < 5; i++)
        {
          const cs_node *in = &g->nodes[n->inputs[i]];
          if (in->op == CS_OP_PARAM)
            o->trainable[in->param_index] = false;
        }
    }
  o->n_states = cfg->kind == CS_OPTIMIZER_ADAM ? 2 : cfg->momentum > 0 ? 1 : 0;
  for (int32_t i = 0; i < o->n_states; i++)
    if ((o->state[i] = cs_model_new (m->graph, err)) == NULL)
      {
        cs_optimizer_free (o);
        return NULL;
      }
  return o;
}

const cs_optimizer_config *
cs_optimizer_config_get (const cs_optimizer *o)
{
  return &o->cfg;
}

void
cs_optimizer_set_lr (cs_optimizer *o, double lr)
{
  if (lr > 0 && isfinite (lr))
    o->cfg.lr = lr;
}

bool
cs_optimizer_trainable (const cs_optimizer *o, int32_t param_index)
{
  return param_index >= 0 && param_index < o->n_params && o->trainable[param_index];
}

/* torch.optim.SGD: d = g + wd * p; buf = d on the first step, else momentum * buf + d
 * (dampening 0, no Nesterov); p -= lr * buf. */
static void
sgd_update (const cs_optimizer_config *c, bool first, float *p, const float *g, float *buf, int64_t n)
{
  float wd = (float) c->weight_decay, mom = (float) c->momentum, neg_lr = (float) -c->lr;
  for (int64_t i = 0; i < n; i++)
    {
      float d = g[i];
      if (wd != 0.0f)
        d = d + wd * p[i];
      if (buf != NULL)
        {
          buf[i] = first ? d : buf[i] * mom + d;
          d = buf[i];
        }
      p[i] = p[i] + neg_lr * d;
    }
}

/* torch.optim.Adam (not AdamW: the decay enters the gradient, so it is scaled by Adam):
 * d = g + wd * p; m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d²;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Scalars in double as Python. */
static void
adam_update (const cs_optimizer_config *c, int64_t t, float *p, const float *g, float *m, float *v, int64_t n)
{
  double bc1 = 1.0 - pow (c->beta1, (double) t), bc2 = 1.0 - pow (c->beta2, (double) t);
  float neg_step = (float) -(c->lr / bc1), bc2_sqrt = (float) sqrt (bc2);
  float wd = (float) c->weight_decay, b1 = (float) c->beta1, b2 = (float) c->beta2;
  float a1 = (float) (1.0 - c->beta1), a2 = (float) (1.0 - c->beta2), eps = (float) c->eps;
  for (int64_t i = 0; i < n; i++)
    {
      float d = g[i];
      if (wd != 0.0f)
        d = d + wd * p[i];
      m[i] = m[i] * b1 + a1 * d;
      v[i] = v[i] * b2 + a2 * (d * d);
      float denom = sqrtf (v[i]) / bc2_sqrt + eps;
      p[i] = p[i] + neg_step * (m[i] / denom);
    }
}

void
cs_optimizer_step (cs_optimizer *o, cs_model *m, const cs_tensor *const *grads)
{
  o->steps++;
  bool first = o->steps == 1;
#pragma omp parallel for schedule (dynamic, 1)
  for (int32_t p = 0; p < o->n_params; p++)
    {
      if (!o->trainable[p] || grads[p] == NULL)
        continue;
      float *w = m->weights[p].data;
      int64_t n = cs_tensor_numel (&m->weights[p]);
      if (o->cfg.kind == CS_OPTIMIZER_ADAM)
        adam_update (&o->cfg, o->steps, w, grads[p]->data, o->state[0]->weights[p].data,
                     o->state[1]->weights[p].data, n);
      else
        sgd_update (&o->cfg, first, w, grads[p]->data,
                    o->n_states > 0 ? o->state[0]->weights[p].data : NULL, n);
    }
}

int64_t
cs_optimizer_steps (const cs_optimizer *o)
{
  return o->steps;
}

void
cs_optimizer_set_steps (cs_optimizer *o, int64_t steps)
{
  o->steps = steps;
}

int32_t
cs_optimizer_n_states (const cs_optimizer *o)
{
  return o->n_states;
}

const char *
cs_optimizer_state_name (const cs_optimizer *o, int32_t i)
{
  if (i < 0 || i >= o->n_states)
    return NULL;
  return o->cfg.kind == CS_OPTIMIZER_ADAM ? adam_states[i] : sgd_states[i];
}

cs_model *
cs_optimizer_state (cs_optimizer *o, int32_t i)
{
  return i >= 0 && i < o->n_states ? o->state[i] : NULL;
}
