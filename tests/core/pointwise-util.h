/* Shared by the pointwise/pool/norm op tests: run one op directly (forward, backward) outside
 * any graph, random shapes, and moving test points off an op's kinks. */
#pragma once

#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "testlib.h"

typedef struct {
  const cs_op_info *info;
  cs_node node;
  cs_op_context ctx;
  const cs_tensor *in[CS_OP_MAX_INPUTS];
  int32_t n_inputs;
  cs_tensor out, aux;
  float *work;
} op_run;

/* Infers the output shape and allocates out, aux and work for inputs at their full shapes. */
static inline cs_status
op_run_setup (op_run *r, cs_op op, const cs_attrs *attrs, cs_tensor *inputs, int32_t n_inputs,
              bool training, const char *name, cs_error *err)
{
  memset (r, 0, sizeof *r);
  r->info = cs_op_get (op);
  r->node.name = (char *) name;
  r->node.op = op;
  r->node.attrs = *attrs;
  r->node.n_inputs = n_inputs;
  r->node.batched = true;
  r->node.param_index = -1;
  r->ctx.training = training;
  r->ctx.seed = 1234;
  r->ctx.threads = 1;
  r->n_inputs = n_inputs;
  const cs_shape *shapes[CS_OP_MAX_INPUTS];
  for (int32_t i = 0; i < n_inputs; i++)
    {
      r->in[i] = &inputs[i];
      shapes[i] = &inputs[i].shape;
    }
  cs_shape out;
  cs_status st = r->info->infer (&r->node, shapes, &out, err);
  if (st != CS_OK)
    return st;
  r->node.shape = out;
  if ((st = cs_tensor_alloc (&r->out, &out, err)) != CS_OK)
    return st;
  int64_t nb = out.ndim > 0 ? out.dim[0] : 1;
  int64_t ws = r->info->workspace ? r->info->workspace (&r->node, shapes, &out, nb) : 0;
  int64_t as = r->info->aux_size ? r->info->aux_size (&r->node, shapes, &out, nb) : 0;
  r->work = cs_alloc_floats (ws > 0 ? ws : 1);
  cs_shape aux_shape = cs_shape_make (1, (int64_t[]) { as > 0 ? as : 1 });
  return cs_tensor_alloc (&r->aux, &aux_shape, err);
}

static inline cs_status
op_run_forward (op_run *r)
{
  cs_op_call call = { .node = &r->node, .n_inputs = r->n_inputs, .in = r->in, .out = &r->out,
                      .work = r->work, .aux = &r->aux, .ctx = &r->ctx };
  return r->info->forward (&call);
}

/* din entries may be NULL; the op adds into the others. */
static inline cs_status
op_run_backward (op_run *r, const cs_tensor *dout, cs_tensor *const *din)
{
  cs_op_call call = { .node = &r->node, .n_inputs = r->n_inputs, .in = r->in, .out = &r->out,
                      .dout = dout, .din = din, .work = r->work, .aux = &r->aux, .ctx = &r->ctx };
  return r->info->backward (&call);
}

static inline void
op_run_free (op_run *r)
{
  cs_tensor_free (&r->out);
  cs_tensor_free (&r->aux);
  cs_free_floats (r->work);
  r->work = NULL;
}

static inline int64_t
rand_int (cs_rng *rng, int64_t lo, int64_t hi) /* inclusive */
{
  return lo + (int64_t) cs_rng_below (rng, (uint64_t) (hi - lo + 1));
}

static inline cs_tensor
tensor_new (const cs_shape *s)
{
  cs_tensor t;
  cs_tensor_alloc (&t, s, NULL);
  return t;
}

/* Moves every value closer than margin to a kink onto kink +- 2*margin (same side), so that
 * finite differences of step < margin never straddle it. */
static inline void
move_off_kinks (cs_tensor *t, const float *kinks, int n_kinks, float margin)
{
  int64_t n = cs_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    for (int k = 0; k < n_kinks; k++)
      if (fabsf (t->data[i] - kinks[k]) < margin)
        t->data[i] = kinks[k] + (t->data[i] >= kinks[k] ? 2.0f : -2.0f) * margin;
}

static inline double
max_abs_diff (const float *a, const float *b, int64_t n)
{
  double m = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - (double) b[i]);
      if (d > m || isnan (d))
        m = isnan (d) ? INFINITY : d;
    }
  return m;
}

#include <omp.h>

/* Runs forward and backward (all din) with 1 and then 2 OpenMP threads on inputs large
 * enough to take the parallel paths; true when outputs and gradients agree bit for bit. */
static inline bool
same_with_threads (cs_op op, const cs_attrs *attrs, cs_tensor *inputs, int32_t n_inputs,
                   bool training)
{
  cs_tensor out[2], grads[2][CS_OP_MAX_INPUTS];
  bool ok = true;
  int saved = omp_get_max_threads ();
  for (int t = 0; t < 2; t++)
    {
      omp_set_num_threads (t + 1);
      op_run r;
      cs_tensor *din[CS_OP_MAX_INPUTS];
      if (op_run_setup (&r, op, attrs, inputs, n_inputs, training, "threads", NULL) != CS_OK)
        return false;
      ok = ok && op_run_forward (&r) == CS_OK;
      cs_tensor dy = tensor_new (&r.out.shape);
      cs_rng rng;
      cs_rng_seed (&rng, 77);
      cs_fill_uniform (&dy, &rng, -1, 1);
      for (int32_t i = 0; i < n_inputs; i++)
        {
          grads[t][i] = tensor_new (&inputs[i].shape);
          din[i] = &grads[t][i];
        }
      ok = ok && op_run_backward (&r, &dy, din) == CS_OK;
      cs_tensor_copy (&out[t], &r.out, NULL);
      cs_tensor_free (&dy);
      op_run_free (&r);
    }
  omp_set_num_threads (saved);
  ok = ok && memcmp (out[0].data, out[1].data, (size_t) cs_tensor_numel (&out[0]) * sizeof (float)) == 0;
  for (int32_t i = 0; i < n_inputs; i++)
    {
      ok = ok && memcmp (grads[0][i].data, grads[1][i].data,
                         (size_t) cs_tensor_numel (&inputs[i]) * sizeof (float)) == 0;
      cs_tensor_free (&grads[0][i]);
      cs_tensor_free (&grads[1][i]);
    }
  cs_tensor_free (&out[0]);
  cs_tensor_free (&out[1]);
  return ok;
}
