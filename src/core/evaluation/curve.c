/* Deletion and insertion curves (Petsiuk et al. 2018): the target's probability as the most
 * attributed pixels are removed from, or inserted into, the input, in batches. */
#include "evaluation/evaluation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/baseline.h"
#include "base/softmax.h"

typedef struct {
  float value;
  int64_t index;
} ranked;

static int
by_decreasing_value (const void *pa, const void *pb)
{
  const ranked *a = pa, *b = pb;
  if (a->value != b->value)
    return a->value > b->value ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

double
cs_curve_auc (const double *y, int32_t n)
{
  if (n < 2)
    return n == 1 ? y[0] : 0;
  double s = 0;
  for (int32_t k = 0; k + 1 < n; k++)
    s += 0.5 * (y[k] + y[k + 1]);
  return s / (double) (n - 1);
}

void
cs_curve_free (cs_curve *c)
{
  if (c == NULL)
    return;
  free (c->probability);
  memset (c, 0, sizeof *c);
}

/* The target's softmax probability of each of n rows of logits. */
static void
probabilities (const cs_tensor *logits, int32_t n, int32_t target, double *p)
{
  int64_t k = cs_tensor_numel (logits) / (n > 0 ? n : 1);
  for (int32_t i = 0; i < n; i++)
    {
      p[i] = cs_softmax_at (logits->data + i * k, k, target);
    }
}

cs_status
cs_evaluation_curve (cs_exec *e, const cs_tensor *input, const cs_tensor *map, int32_t target,
                     cs_curve_kind kind, int32_t steps, cs_baseline baseline, uint64_t seed,
                     const cs_progress *progress, cs_curve *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  const cs_model *m = cs_exec_model (e);
  const cs_graph *g = m->graph;
  const cs_shape *want = &g->nodes[g->input_node].shape;
  char a[96], b[96];
  if (!cs_shape_equal (&input->shape, want))
    return cs_error_set (err, CS_ERR_SHAPE, "input has shape %s, the model takes %s",
                         cs_shape_format (&input->shape, a, sizeof a), cs_shape_format (want, b, sizeof b));
  int64_t c = input->shape.dim[1], h = input->shape.dim[2], w = input->shape.dim[3], hw = h * w;
  if (map->shape.ndim != 2 || map->shape.dim[0] != h || map->shape.dim[1] != w)
    return cs_error_set (err, CS_ERR_SHAPE, "the map has shape %s, the input is %lldx%lld",
                         cs_shape_format (&map->shape, a, sizeof a), (long long) h, (long long) w);
  if (target < 0 || target >= m->n_classes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "class %d: the model has %d classes", target, m->n_classes);
  if (steps == 0)
    steps = CS_EVALUATION_STEPS;
  if (steps < 1 || steps > 100000)
    return cs_error_set (err, CS_ERR_ARGUMENT, "a curve needs between 1 and 100000 steps, not %d", steps);

  cs_status st = CS_OK;
  int32_t batch = cs_exec_max_batch (e);
  int32_t points = steps + 1;
  ranked *order = malloc ((size_t) hw * sizeof *order);
  out->probability = calloc ((size_t) points, sizeof (double));
  cs_tensor start = { 0 }, finish = { 0 }, work = { 0 }, chunk = { 0 };
  if (order == NULL || out->probability == NULL)
    {
      st = cs_error_set (err, CS_ERR_MEMORY, "out of memory for a %d-step curve", steps);
      goto out;
    }
  for (int64_t i = 0; i < hw; i++)
    {
      order[i].value = isfinite (map->data[i]) ? map->data[i] : -INFINITY;
      order[i].index = i;
    }
  qsort (order, (size_t) hw, sizeof *order, by_decreasing_value);

  /* Deletion goes from the input to the baseline, insertion from the blur to the input. */
  cs_tensor other = { 0 };
  st = cs_baseline_make (kind == CS_CURVE_DELETION ? baseline : CS_BASELINE_BLUR, input, seed, &other, err);
  if (st != CS_OK)
    goto out;
  if (kind == CS_CURVE_DELETION)
    {
      finish = other;
      st = cs_tensor_copy (&start, input, err);
    }
  else
    {
      start = other;
      st = cs_tensor_copy (&finish, input, err);
    }
  if (st == CS_OK)
    st = cs_tensor_copy (&work, &start, err);
  cs_shape cs = cs_shape_4d (batch, c, h, w);
  if (st == CS_OK)
    st = cs_tensor_alloc (&chunk, &cs, err);
  if (st != CS_OK)
    goto out;

  bool was_training = cs_exec_training (e);
  cs_exec_set_training (e, false);
  int64_t done = 0; /* pixels of `order` already changed in work */
  for (int32_t k0 = 0; k0 < points && st == CS_OK; k0 += batch)
    {
      if (cs_progress_cancelled (progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
          break;
        }
      int32_t n = points - k0 < batch ? points - k0 : batch;
      for (int32_t i = 0; i < n; i++)
        {
          int32_t k = k0 + i;
          /* round(k·hw/steps) in integers */
          int64_t upto = (2 * (int64_t) k * hw + steps) / (2 * (int64_t) steps);
          for (; done < upto; done++)
            {
              int64_t px = order[done].index;
              for (int64_t ch = 0; ch < c; ch++)
                work.data[ch * hw + px] = finish.data[ch * hw + px];
            }
          memcpy (chunk.data + (int64_t) i * c * hw, work.data, (size_t) (c * hw) * sizeof (float));
        }
      cs_tensor view = cs_tensor_view (&(cs_shape) { 4, { n, c, h, w } }, chunk.data);
      st = cs_exec_forward (e, &view, err);
      if (st == CS_OK)
        probabilities (cs_exec_value (e, g->output_node), n, target, out->probability + k0);
      cs_progress_report (progress, (double) (k0 + n) / points);
    }
  cs_exec_set_training (e, was_training);
  if (st == CS_OK)
    {
      out->kind = kind;
      out->steps = steps;
      out->auc = cs_curve_auc (out->probability, points);
    }

out:
  free (order);
  cs_tensor_free (&start);
  cs_tensor_free (&finish);
  cs_tensor_free (&work);
  cs_tensor_free (&chunk);
  if (st != CS_OK)
    cs_curve_free (out);
  return st;
}
