/* The training step (forward, loss, backward, update, running statistics) and the epoch and
 * evaluation loops over a data set split. */
#include "training/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/batch_group.h"
#include "base/rng.h"
#include "base/threads.h"
#include "training/augment.h"
#include "training/loss.h"

#define MAX_SLICES 64

typedef struct {
  cs_exec *exec;
  float *dlogits;            /* the loss gradient of this slice, [slice, classes] */
  double loss;
  int32_t correct;
  cs_status status;
  cs_error err;
} slice;

struct cs_trainer {
  cs_model *model;
  cs_trainer_config cfg;
  int32_t n_slices;
  int32_t slice_batch;       /* the largest slice */
  slice *slices;
  cs_batch_group *group;     /* batch norm's statistics across the slices (n_slices > 1) */
  int64_t last_batch;        /* samples in the last batch run */
  cs_optimizer *opt;
  int32_t n_classes;
  cs_tensor x;               /* one batch of inputs [batch, C, H, W] */
  int32_t *labels;
  cs_tensor *sum;            /* per parameter: the slices' gradients summed (n_slices > 1) */
  const cs_tensor **grads;   /* per parameter, after backward */
  int64_t *order;            /* an epoch's shuffled sample order */
  int64_t order_size;
  /* Gradient moments over one epoch's batches, per trainable weight (the EB criterion). */
  double *g_sum, *g_sq;
  int64_t n_moments;
  int64_t moment_batches;
  double eb;
};

static uint64_t
mix64 (uint64_t z)
{
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void
cs_trainer_free (cs_trainer *t)
{
  if (t == NULL)
    return;
  for (int32_t k = 0; t->slices != NULL && k < t->n_slices; k++)
    {
      cs_exec_free (t->slices[k].exec);
      cs_free_floats (t->slices[k].dlogits);
    }
  free (t->slices);
  cs_batch_group_free (t->group);
  if (t->sum != NULL)
    for (int32_t p = 0; p < t->model->graph->n_params; p++)
      cs_tensor_free (&t->sum[p]);
  free (t->sum);
  cs_optimizer_free (t->opt);
  cs_tensor_free (&t->x);
  free (t->labels);
  free (t->grads);
  free (t->order);
  free (t->g_sum);
  free (t->g_sq);
  free (t);
}

cs_trainer *
cs_trainer_new (cs_model *m, const cs_trainer_config *cfg, cs_error *err)
{
  const cs_graph *g = m->graph;
  const cs_node *out = &g->nodes[g->output_node];
  if (cfg->batch < 1)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "batch size %d must be at least 1", cfg->batch);
      return NULL;
    }
  if (out->shape.ndim != 2 || !out->batched || out->shape.dim[1] < 2)
    {
      char buf[128];
      cs_error_set (err, CS_ERR_SHAPE, "node '%s': a classifier must end in [batch, classes] logits, "
                    "this one gives %s", out->name, cs_shape_format (&out->shape, buf, sizeof buf));
      return NULL;
    }
  cs_trainer *t = calloc (1, sizeof *t);
  if (t == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  t->model = m;
  t->cfg = *cfg;
  t->n_classes = (int32_t) out->shape.dim[1];
  /* Batch norm sums its statistics across the slices: per node, two values per channel and
   * the count. */
  int64_t group_values = 1;
  for (int32_t id = 0; id < g->n_nodes; id++)
    if (g->nodes[id].op == CS_OP_BATCHNORM)
      {
        int64_t c = g->nodes[id].shape.ndim > 1 ? g->nodes[id].shape.dim[1] : 1;
        group_values = 2 * c + 1 > group_values ? 2 * c + 1 : group_values;
      }
  int32_t n = cfg->slices > 0 ? cfg->slices : cs_threads_get ();
  if (n < 1)
    n = 1;
  if (n > MAX_SLICES)
    n = MAX_SLICES;
  if (n > cfg->batch)
    n = cfg->batch;
  t->n_slices = n;
  t->slice_batch = (cfg->batch + n - 1) / n;
  size_t n_params = (size_t) (g->n_params > 0 ? g->n_params : 1);
  cs_shape xs = cs_shape_4d (cfg->batch, m->channels, m->height, m->width);
  t->slices = calloc ((size_t) n, sizeof *t->slices);
  t->labels = calloc ((size_t) cfg->batch, sizeof *t->labels);
  t->grads = calloc (n_params, sizeof *t->grads);
  if (n > 1)
    t->sum = calloc (n_params, sizeof *t->sum);
  if (n > 1)
    t->group = cs_batch_group_new (n, group_values);
  if (t->slices == NULL || t->labels == NULL || t->grads == NULL || (n > 1 && (t->sum == NULL || t->group == NULL)))
    {
      cs_trainer_free (t);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  for (int32_t k = 0; k < n; k++)
    {
      if ((t->slices[k].exec = cs_exec_new (m, t->slice_batch, err)) == NULL)
        {
          cs_trainer_free (t);
          return NULL;
        }
      if (n > 1)
        cs_exec_set_threads (t->slices[k].exec, 1); /* the slices are the parallelism */
      if ((t->slices[k].dlogits = cs_alloc_floats ((int64_t) t->slice_batch * t->n_classes)) == NULL)
        {
          cs_trainer_free (t);
          cs_error_set (err, CS_ERR_MEMORY, "out of memory");
          return NULL;
        }
    }
  for (int32_t p = 0; n > 1 && p < g->n_params; p++)
    if (cs_tensor_alloc (&t->sum[p], &m->weights[p].shape, err) != CS_OK)
      {
        cs_trainer_free (t);
        return NULL;
      }
  if ((t->opt = cs_optimizer_new (m, &cfg->optimizer, err)) == NULL || cs_tensor_alloc (&t->x, &xs, err) != CS_OK)
    {
      cs_trainer_free (t);
      return NULL;
    }
  t->eb = NAN;
  for (int32_t p = 0; p < g->n_params; p++)
    if (cs_optimizer_trainable (t->opt, p))
      t->n_moments += cs_tensor_numel (&m->weights[p]);
  t->g_sum = calloc ((size_t) (t->n_moments > 0 ? t->n_moments : 1), sizeof *t->g_sum);
  t->g_sq = calloc ((size_t) (t->n_moments > 0 ? t->n_moments : 1), sizeof *t->g_sq);
  if (t->g_sum == NULL || t->g_sq == NULL)
    {
      cs_trainer_free (t);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  return t;
}

cs_optimizer *
cs_trainer_optimizer (cs_trainer *t)
{
  return t->opt;
}

cs_exec *
cs_trainer_exec (cs_trainer *t)
{
  return t->slices[0].exec;
}

int32_t
cs_trainer_slices (const cs_trainer *t)
{
  return t->n_slices;
}

const cs_tensor *
cs_trainer_param_grad (const cs_trainer *t, int32_t p)
{
  if (p < 0 || p >= t->model->graph->n_params)
    return NULL;
  return t->grads[p];
}

/* Forward (and in training, the loss gradient and backward) of slice k: samples [off, off + n)
 * of x, whose whole batch holds total samples. */
static void
run_slice_steps (cs_trainer *t, int32_t k, const cs_tensor *x, const int32_t *labels, int64_t off, int64_t n,
           int64_t total, bool training)
{
  slice *sl = &t->slices[k];
  const cs_graph *g = t->model->graph;
  cs_shape s = x->shape;
  s.dim[0] = n;
  int64_t per = cs_tensor_numel (x) / x->shape.dim[0];
  cs_tensor xs = cs_tensor_view (&s, x->data + off * per);
  cs_exec_set_training (sl->exec, training);
  if (training)
    {
      /* A fresh dropout stream per step (and slice), derived from the step number alone, so
       * that a resumed run draws the masks an uninterrupted one would. */
      uint64_t step_key = mix64 ((uint64_t) cs_optimizer_steps (t->opt));
      cs_exec_set_seed (sl->exec, mix64 (t->cfg.seed ^ (k == 0 ? step_key : mix64 (step_key + (uint64_t) k))));
    }
  sl->status = cs_exec_forward (sl->exec, &xs, &sl->err);
  if (sl->status != CS_OK)
    return;
  const cs_tensor *logits = cs_exec_value (sl->exec, g->output_node);
  cs_tensor seed = cs_tensor_view (&logits->shape, sl->dlogits);
  sl->status = cs_cross_entropy (logits, labels + off, &sl->loss, &sl->correct, training ? &seed : NULL, &sl->err);
  if (sl->status != CS_OK || !training)
    return;
  /* The slice's gradient is of its own mean; the batch's mean weighs it by n / total. */
  if (n != total)
    {
      float w = (float) ((double) n / (double) total);
      int64_t m = cs_tensor_numel (&seed);
      for (int64_t i = 0; i < m; i++)
        sl->dlogits[i] *= w;
    }
  sl->status = cs_exec_backward (sl->exec, g->output_node, &seed, CS_GRAD_PARAMS, &sl->err);
}

/* run_slice_steps; a slice that stops early must not leave the others waiting for its
 * batch-norm sums. */
static void
run_slice (cs_trainer *t, int32_t k, const cs_tensor *x, const int32_t *labels, int64_t off, int64_t n,
           int64_t total, bool training)
{
  run_slice_steps (t, k, x, labels, off, n, total, training);
  if (t->slices[k].status != CS_OK && t->group != NULL)
    cs_batch_group_abort (t->group);
}

/* Runs the batch x (n samples) through the slices, in parallel when there are several, and
 * gathers the mean loss, the correct count and (training) the summed parameter gradients. */
static cs_status
run_batch (cs_trainer *t, const cs_tensor *x, const int32_t *labels, bool training, double *loss,
           int32_t *correct, cs_error *err)
{
  const cs_graph *g = t->model->graph;
  int64_t total = x->shape.dim[0];
  int32_t n = t->n_slices;
  int64_t offs[MAX_SLICES + 1];
  for (int32_t k = 0; k <= n; k++)
    offs[k] = total * k / n; /* sizes differ by at most one */
  if (total > (int64_t) t->slice_batch * n)
    return cs_error_set (err, CS_ERR_ARGUMENT, "batch of %lld is larger than the trainer's %d",
                         (long long) total, t->cfg.batch);
  t->last_batch = total;
  if (n == 1)
    run_slice (t, 0, x, labels, 0, total, total, training);
  else
    {
      /* the slices that hold samples are the group's members, in slice order */
      int32_t active = 0;
      for (int32_t k = 0; k < n; k++)
        if (offs[k + 1] > offs[k])
          cs_exec_set_batch_group (t->slices[k].exec, training ? t->group : NULL, active++);
      cs_batch_group_begin (t->group, active);
      /* One thread per slice, each running single-threaded ops and BLAS (ops inside a
       * parallel region run on their thread alone). */
#pragma omp parallel for num_threads (n) schedule (static, 1)
      for (int32_t k = 0; k < n; k++)
        {
          t->slices[k].status = CS_OK;
          t->slices[k].loss = 0.0;
          t->slices[k].correct = 0;
          if (offs[k + 1] > offs[k])
            run_slice (t, k, x, labels, offs[k], offs[k + 1] - offs[k], total, training);
        }
      /* an exec used on its own later must not wait for the others' sums */
      for (int32_t k = 0; k < n; k++)
        cs_exec_set_batch_group (t->slices[k].exec, NULL, 0);
    }
  double l = 0.0;
  int32_t c = 0;
  /* the first slice's own failure, not a slice that the group released after it */
  int32_t failed = -1;
  for (int32_t k = 0; k < n; k++)
    if (t->slices[k].status != CS_OK
        && (failed < 0 || (t->slices[failed].status == CS_ERR_CANCELLED
                           && t->slices[k].status != CS_ERR_CANCELLED)))
      failed = k;
  if (failed >= 0)
    {
      if (err != NULL)
        *err = t->slices[failed].err;
      return t->slices[failed].status;
    }
  for (int32_t k = 0; k < n; k++)
    {
      l += t->slices[k].loss * (double) (offs[k + 1] - offs[k]);
      c += t->slices[k].correct;
    }
  *loss = l / (double) total;
  if (correct != NULL)
    *correct = c;
  if (!training)
    return CS_OK;
  for (int32_t p = 0; p < g->n_params; p++)
    {
      if (n == 1)
        {
          t->grads[p] = cs_exec_param_grad (t->slices[0].exec, p);
          continue;
        }
      /* Summed in slice order, whatever the threads: the same run bit for bit. */
      float *d = t->sum[p].data;
      int64_t m = cs_tensor_numel (&t->sum[p]);
      memset (d, 0, (size_t) m * sizeof *d);
      t->grads[p] = NULL;
      for (int32_t k = 0; k < n; k++)
        {
          const cs_tensor *gk = offs[k + 1] > offs[k] ? cs_exec_param_grad (t->slices[k].exec, p) : NULL;
          if (gk == NULL)
            continue;
          for (int64_t i = 0; i < m; i++)
            d[i] += gk->data[i];
          t->grads[p] = &t->sum[p];
        }
    }
  return CS_OK;
}

cs_status
cs_trainer_gradients (cs_trainer *t, const cs_tensor *x, const int32_t *labels, double *loss,
                      int32_t *correct, cs_error *err)
{
  return run_batch (t, x, labels, true, loss, correct, err);
}

/* PyTorch's update, in double as its CPU kernel accumulates: the biased batch variance saved
 * by the op becomes unbiased (n / (n - 1), n = samples x positions per channel). */
static cs_status
update_running_stats (cs_trainer *t, cs_error *err)
{
  const cs_graph *g = t->model->graph;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *node = &g->nodes[id];
      if (node->op != CS_OP_BATCHNORM || node->n_inputs < 5)
        continue;
      const cs_node *mn = &g->nodes[node->inputs[3]], *vn = &g->nodes[node->inputs[4]];
      /* Every slice's op saved the whole batch's statistics: read the last slice's, which
       * always holds samples. */
      cs_exec *e = t->slices[t->n_slices - 1].exec;
      const cs_tensor *aux = cs_exec_aux (e, id);
      const cs_tensor *x = cs_exec_value (e, node->inputs[0]);
      if (mn->op != CS_OP_PARAM || vn->op != CS_OP_PARAM || aux == NULL || x == NULL)
        continue;
      int64_t c = x->shape.dim[1];
      int64_t count = cs_tensor_numel (x) / (c * x->shape.dim[0]) * t->last_batch;
      if (count < 2)
        return cs_error_set (err, CS_ERR_SHAPE, "node '%s': batch norm in training needs more than one "
                             "value per channel (batch of %lld)", node->name, (long long) t->last_batch);
      float *rm = t->model->weights[mn->param_index].data;
      float *rv = t->model->weights[vn->param_index].data;
      double mom = node->attrs.norm.momentum, unbias = (double) count / (double) (count - 1);
      for (int64_t k = 0; k < c; k++)
        {
          rm[k] = (float) (mom * aux->data[k] + (1.0 - mom) * rm[k]);
          rv[k] = (float) (mom * aux->data[c + k] * unbias + (1.0 - mom) * rv[k]);
        }
    }
  return CS_OK;
}

cs_status
cs_trainer_step (cs_trainer *t, const cs_tensor *x, const int32_t *labels, double *loss, int32_t *correct,
                 cs_error *err)
{
  cs_status st = cs_trainer_gradients (t, x, labels, loss, correct, err);
  if (st != CS_OK)
    return st;
  if ((st = update_running_stats (t, err)) != CS_OK)
    return st;
  cs_optimizer_step (t->opt, t->model, t->grads);
  return CS_OK;
}

/* Adds the last step's gradients to the epoch's moments. */
static void
accumulate_moments (cs_trainer *t)
{
  int64_t k = 0;
  for (int32_t p = 0; p < t->model->graph->n_params; p++)
    {
      if (!cs_optimizer_trainable (t->opt, p))
        continue;
      int64_t m = cs_tensor_numel (&t->model->weights[p]);
      const cs_tensor *gp = t->grads[p];
      for (int64_t i = 0; gp != NULL && i < m; i++)
        {
          double v = gp->data[i];
          t->g_sum[k + i] += v;
          t->g_sq[k + i] += v * v;
        }
      k += m;
    }
  t->moment_batches++;
}

static double
eb_from_moments (const cs_trainer *t)
{
  double nb = (double) t->moment_batches, sum = 0.0;
  int64_t d = 0;
  if (t->moment_batches < 2)
    return NAN;
  for (int64_t k = 0; k < t->n_moments; k++)
    {
      double mean = t->g_sum[k] / nb, msq = t->g_sq[k] / nb;
      double var = (msq - mean * mean) * nb / (nb - 1.0);
      if (!(var > 1e-30 * (msq > 0 ? msq : 1.0)))
        continue;
      sum += msq / var;
      d++;
    }
  return d > 0 ? 1.0 - sum / (double) d : NAN;
}

double
cs_trainer_eb_criterion (const cs_trainer *t)
{
  return t->eb;
}

static cs_status
check_split (const cs_trainer *t, const cs_dataset_split *split, cs_error *err)
{
  const cs_model *m = t->model;
  if (split->channels != m->channels || split->height != m->height || split->width != m->width)
    return cs_error_set (err, CS_ERR_SHAPE,
                         "the model takes %dx%dx%d inputs, the data set has %dx%dx%d images", m->channels,
                         m->height, m->width, split->channels, split->height, split->width);
  return CS_OK;
}

/* Points t->x at a batch of n samples (the tensor keeps its buffer, its dim 0 shrinks). */
static void
load_batch (cs_trainer *t, const cs_dataset_split *split, const int64_t *indices, int64_t n,
            const float *mean, const float *std)
{
  t->x.shape.dim[0] = n;
  cs_dataset_batch (split, indices, n, mean, std, t->x.data, t->labels);
}

cs_status
cs_trainer_epoch (cs_trainer *t, const cs_dataset_split *split, const int64_t *indices, int64_t n,
                  const float *mean, const float *std, int32_t epoch, double *loss, double *accuracy,
                  const cs_progress *progress, cs_error *err)
{
  cs_status st = check_split (t, split, err);
  if (st != CS_OK)
    return st;
  if (n < 1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no training samples");
  if (n > t->order_size)
    {
      int64_t *o = realloc (t->order, (size_t) n * sizeof *o);
      if (o == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      t->order = o;
      t->order_size = n;
    }
  memcpy (t->order, indices, (size_t) n * sizeof *indices);
  cs_rng rng;
  cs_rng_seed (&rng, mix64 (t->cfg.seed) ^ mix64 ((uint64_t) epoch + 0x5eed));
  for (int64_t i = n - 1; i > 0; i--)
    {
      int64_t j = (int64_t) cs_rng_below (&rng, (uint64_t) i + 1);
      int64_t tmp = t->order[i];
      t->order[i] = t->order[j];
      t->order[j] = tmp;
    }
  double loss_sum = 0.0;
  int64_t right = 0;
  memset (t->g_sum, 0, (size_t) t->n_moments * sizeof *t->g_sum);
  memset (t->g_sq, 0, (size_t) t->n_moments * sizeof *t->g_sq);
  t->moment_batches = 0;
  t->eb = NAN;
  for (int64_t start = 0; start < n; start += t->cfg.batch)
    {
      if (cs_progress_cancelled (progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "training interrupted in epoch %d", epoch);
      int64_t b = n - start < t->cfg.batch ? n - start : t->cfg.batch;
      load_batch (t, split, t->order + start, b, mean, std);
      /* The crop and flip draws come from the step number, so a resumed run repeats them. */
      if (t->cfg.augment
          && (st = cs_augment_batch (t->x.data, b, split->channels, split->height, split->width, mean, std,
                                     mix64 (t->cfg.seed ^ mix64 ((uint64_t) cs_optimizer_steps (t->opt)
                                                                 + 0xa06e47)), err)) != CS_OK)
        return st;
      double l;
      int32_t c;
      if ((st = cs_trainer_step (t, &t->x, t->labels, &l, &c, err)) != CS_OK)
        return cs_error_prefix (err, "epoch %d, step %lld", epoch,
                                (long long) cs_optimizer_steps (t->opt) + 1);
      /* A short last batch has a larger variance: the moments take full batches only. */
      if (b == t->cfg.batch)
        accumulate_moments (t);
      loss_sum += l * (double) b;
      right += c;
      cs_progress_report (progress, (double) (start + b) / (double) n);
    }
  *loss = loss_sum / (double) n;
  *accuracy = (double) right / (double) n;
  t->eb = eb_from_moments (t);
  return CS_OK;
}

cs_status
cs_trainer_evaluate (cs_trainer *t, const cs_dataset_split *split, const int64_t *indices, int64_t n,
                     const float *mean, const float *std, double *loss, double *accuracy,
                     const cs_progress *progress, cs_error *err)
{
  cs_status st = check_split (t, split, err);
  if (st != CS_OK)
    return st;
  if (n < 1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no validation samples");
  double loss_sum = 0.0;
  int64_t right = 0;
  for (int64_t start = 0; start < n; start += t->cfg.batch)
    {
      if (cs_progress_cancelled (progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "evaluation interrupted");
      int64_t b = n - start < t->cfg.batch ? n - start : t->cfg.batch;
      load_batch (t, split, indices + start, b, mean, std);
      double l;
      int32_t c;
      if ((st = run_batch (t, &t->x, t->labels, false, &l, &c, err)) != CS_OK)
        return st;
      loss_sum += l * (double) b;
      right += c;
      cs_progress_report (progress, (double) (start + b) / (double) n);
    }
  *loss = loss_sum / (double) n;
  *accuracy = (double) right / (double) n;
  return CS_OK;
}
