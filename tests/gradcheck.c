/* Finite-difference gradient checks for one operator, shared by the op test suites. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

void
cs_fill_uniform (cs_tensor *t, cs_rng *rng, float lo, float hi)
{
  int64_t n = cs_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = lo + (hi - lo) * (float) cs_rng_uniform (rng);
}

void
cs_fill_distinct (cs_tensor *t, cs_rng *rng, float lo, float hi)
{
  int64_t n = cs_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = lo + (hi - lo) * ((float) i + 0.5f) / (float) n;
  for (int64_t i = n - 1; i > 0; i--)
    {
      int64_t j = (int64_t) cs_rng_below (rng, (uint64_t) i + 1);
      float tmp = t->data[i];
      t->data[i] = t->data[j];
      t->data[j] = tmp;
    }
}

typedef struct {
  const cs_op_info *info;
  cs_node node;
  cs_op_context ctx;
  const cs_tensor *in[64];
  int32_t n_inputs;
  cs_tensor out, aux;
  float *work;
} op_runner;

static double
loss_of (op_runner *r, const cs_tensor *seed)
{
  cs_op_call call = { .node = &r->node, .n_inputs = r->n_inputs, .in = r->in, .out = &r->out,
                      .work = r->work, .aux = &r->aux, .ctx = &r->ctx };
  cs_tensor_zero (&r->out);
  r->info->forward (&call);
  double s = 0;
  int64_t n = cs_tensor_numel (&r->out);
  for (int64_t i = 0; i < n; i++)
    s += (double) r->out.data[i] * (double) seed->data[i];
  return s;
}

int
cs_gradcheck (const char *label, cs_op op, const cs_attrs *attrs, cs_tensor *inputs,
              int32_t n_inputs, bool batched, const cs_gradcheck_options *opts)
{
  cs_gradcheck_options o = { .h = 1e-2, .atol = 2e-3, .rtol = 2e-2, .max_checks = 200,
                             .check_mask = 0xffffffffu };
  if (opts != NULL)
    {
      o = *opts;
      if (o.h == 0) o.h = 1e-2;
      if (o.atol == 0) o.atol = 2e-3;
      if (o.rtol == 0) o.rtol = 2e-2;
      if (o.max_checks == 0) o.max_checks = 200;
      if (o.check_mask == 0) o.check_mask = 0xffffffffu;
    }
  op_runner r = { 0 };
  cs_error err = { 0 };
  r.info = cs_op_get (op);
  r.node.name = (char *) label;
  r.node.op = op;
  r.node.attrs = *attrs;
  r.node.n_inputs = n_inputs;
  r.node.batched = batched;
  r.node.param_index = -1;
  r.n_inputs = n_inputs;
  r.ctx.training = o.training;
  r.ctx.relu_rule = o.relu_rule;
  r.ctx.seed = 1234;
  r.ctx.threads = 1;
  const cs_shape *shapes[64];
  for (int32_t i = 0; i < n_inputs; i++)
    {
      r.in[i] = &inputs[i];
      shapes[i] = &inputs[i].shape;
    }
  cs_shape out_shape;
  if (r.info->infer (&r.node, shapes, &out_shape, &err) != CS_OK)
    {
      CHECK (0, "%s: shape inference failed: %s", label, err.message);
      return 1;
    }
  r.node.shape = out_shape;
  cs_tensor_alloc (&r.out, &out_shape, NULL);
  int64_t nb = batched ? out_shape.dim[0] : 1;
  int64_t ws = r.info->workspace ? r.info->workspace (&r.node, shapes, &out_shape, nb) : 0;
  r.work = cs_alloc_floats (ws > 0 ? ws : 1);
  int64_t as = r.info->aux_size ? r.info->aux_size (&r.node, shapes, &out_shape, nb) : 0;
  cs_shape aux_shape = cs_shape_make (1, (int64_t[]) { as > 0 ? as : 1 });
  cs_tensor_alloc (&r.aux, &aux_shape, NULL);

  cs_rng rng;
  cs_rng_seed (&rng, 42);
  cs_tensor seed;
  cs_tensor_alloc (&seed, &out_shape, NULL);
  cs_fill_uniform (&seed, &rng, -1.0f, 1.0f);

  /* analytic gradients */
  loss_of (&r, &seed);
  cs_tensor grads[64];
  cs_tensor *din[64];
  for (int32_t i = 0; i < n_inputs; i++)
    {
      cs_tensor_alloc (&grads[i], &inputs[i].shape, NULL);
      din[i] = (o.check_mask >> i) & 1 ? &grads[i] : NULL;
    }
  cs_op_call call = { .node = &r.node, .n_inputs = n_inputs, .in = r.in, .out = &r.out,
                      .dout = &seed, .din = din, .work = r.work, .aux = &r.aux, .ctx = &r.ctx };
  r.info->backward (&call);

  /* An op that writes fresh gradient buffers (cs_op_info.fresh_din) must give the same
   * gradients into buffers full of garbage (NaN) as it adds into zeros. */
  int failures = 0;
  if (r.info->fresh_din)
    {
      cs_tensor fresh_grads[64];
      cs_tensor *fresh_din[64];
      bool fresh[64];
      for (int32_t i = 0; i < n_inputs; i++)
        {
          cs_tensor_alloc (&fresh_grads[i], &inputs[i].shape, NULL);
          for (int64_t k = 0; k < cs_tensor_numel (&fresh_grads[i]); k++)
            fresh_grads[i].data[k] = NAN;
          fresh_din[i] = din[i] != NULL ? &fresh_grads[i] : NULL;
          fresh[i] = true;
        }
      cs_op_call again = call;
      again.din = fresh_din;
      again.din_fresh = fresh;
      r.info->backward (&again);
      for (int32_t i = 0; i < n_inputs; i++)
        {
          if (din[i] == NULL)
            continue;
          int64_t n = cs_tensor_numel (&grads[i]), off = 0;
          for (int64_t k = 0; k < n; k++)
            off += !(fresh_grads[i].data[k] == grads[i].data[k]);
          CHECK (off == 0, "%s: gradient of input %d written into a fresh buffer (%lld of %lld "
                 "elements differ from the added one)", label, i, (long long) off, (long long) n);
          failures += off != 0;
        }
      for (int32_t i = 0; i < n_inputs; i++)
        cs_tensor_free (&fresh_grads[i]);
    }

  /* In training mode an op may draw randomness per forward (dropout): keep the step fixed so
   * that every finite-difference forward sees the same mask. */
  for (int32_t i = 0; i < n_inputs; i++)
    {
      if (!((o.check_mask >> i) & 1))
        continue;
      int64_t n = cs_tensor_numel (&inputs[i]);
      int64_t stride = n > o.max_checks ? n / o.max_checks : 1;
      int64_t bad = 0, checked = 0, worst_at = -1;
      double worst = 0, worst_num = 0, worst_ana = 0;
      for (int64_t k = 0; k < n; k += stride)
        {
          float saved = inputs[i].data[k];
          inputs[i].data[k] = (float) (saved + o.h);
          double lp = loss_of (&r, &seed);
          inputs[i].data[k] = (float) (saved - o.h);
          double lm = loss_of (&r, &seed);
          inputs[i].data[k] = saved;
          double num = (lp - lm) / (2 * o.h);
          double ana = grads[i].data[k];
          double diff = fabs (num - ana);
          checked++;
          if (!CLOSE (ana, num, o.atol, o.rtol))
            {
              bad++;
              if (diff > worst)
                {
                  worst = diff;
                  worst_at = k;
                  worst_num = num;
                  worst_ana = ana;
                }
            }
        }
      char buf[128];
      CHECK (bad == 0, "%s: gradient of input %d %s (%lld elements checked, %lld off; worst at %lld: "
             "numeric %.6g, analytic %.6g)", label, i, cs_shape_format (&inputs[i].shape, buf, sizeof buf),
             (long long) checked, (long long) bad, (long long) worst_at, worst_num, worst_ana);
      failures += bad != 0;
    }
  for (int32_t i = 0; i < n_inputs; i++)
    cs_tensor_free (&grads[i]);
  cs_tensor_free (&seed);
  cs_tensor_free (&r.out);
  cs_tensor_free (&r.aux);
  cs_free_floats (r.work);
  return failures;
}
