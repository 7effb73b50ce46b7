/* The unit inspector's worker jobs. Each copies what it needs on the main thread; results are
 * plain data that the inspector caches and turns into textures. */
#include "config.h"

#include <cjson/cJSON.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-unit-jobs.h"
#include "data/dataset.h"

/* The weights of a conv/linear node as filters: filter k's i-th value is
 * w[trans ? i * M + k : k * fsize + i]. Returns NULL when the layout is not one of those. */
static const float *
filter_layout (const cs_graph *g, const cs_model *m, int node, int64_t *M, int64_t *fsize,
               int64_t *C, int64_t *kh, int64_t *kw, gboolean *trans)
{
  const cs_node *n = &g->nodes[node];
  const cs_tensor *w = &m->weights[g->nodes[n->inputs[1]].param_index];

  *trans = n->op == CS_OP_GEMM && !n->attrs.gemm.trans_b;
  if (n->op == CS_OP_CONV2D && w->shape.ndim == 4)
    {
      *M = w->shape.dim[0], *C = w->shape.dim[1], *kh = w->shape.dim[2], *kw = w->shape.dim[3];
      *trans = FALSE;
    }
  else if (n->op == CS_OP_GEMM && w->shape.ndim == 2)
    {
      *M = *trans ? w->shape.dim[1] : w->shape.dim[0];
      *C = *trans ? w->shape.dim[0] : w->shape.dim[1];
      *kh = *kw = 1;
    }
  else
    return NULL;
  *fsize = *C * *kh * *kw;
  return w->data;
}

void
cs_unit_image_free (gpointer data)
{
  CsUnitImage *image = data;

  if (image == NULL)
    return;
  g_free (image->pixels);
  g_free (image);
}

GdkTexture *
cs_unit_image_texture (const CsUnitImage *image, int min_size)
{
  g_autoptr (GBytes) bytes = NULL;
  int scale = MAX (1, (min_size + MAX (image->h, image->w) - 1) / MAX (1, MAX (image->h, image->w)));
  int W = image->w * scale, H = image->h * scale;
  gsize plane = (gsize) image->h * image->w;
  guint8 *rgb = g_malloc ((gsize) W * H * 3);

  /* Nearest neighbour: a 16 x 16 image stays crisp rather than a blur. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        {
          float v = image->pixels[(image->c >= 3 ? c : 0) * plane + (gsize) (y / scale) * image->w + x / scale];
          rgb[((gsize) y * W + x) * 3 + c] = (guint8) lrintf (255.0f * CLAMP (v, 0.0f, 1.0f));
        }
  bytes = g_bytes_new_take (rgb, (gsize) W * H * 3);
  return gdk_memory_texture_new (W, H, GDK_MEMORY_R8G8B8, bytes, (gsize) W * 3);
}

static void
set_status_error (GError **error, const cs_error *err)
{
  if (err->code == CS_ERR_CANCELLED)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
  else
    cs_set_core_error (error, err);
}

/* Activation maximisation. */

CsActmaxJob *
cs_actmax_job_new (CsModelSet *set, int epoch, int layer, int unit, const cs_actmax_params *params)
{
  CsActmaxJob *job = g_atomic_rc_box_new0 (CsActmaxJob);

  job->set = cs_model_set_ref (set);
  job->epoch = epoch;
  job->layer = layer;
  job->unit = unit;
  job->params = *params;
  g_weak_ref_init (&job->owner, NULL);
  g_mutex_init (&job->lock);
  return job;
}

CsActmaxJob *
cs_actmax_job_ref (CsActmaxJob *job)
{
  return g_atomic_rc_box_acquire (job);
}

static void
actmax_job_clear (gpointer data)
{
  CsActmaxJob *job = data;

  cs_model_set_unref (job->set);
  g_weak_ref_clear (&job->owner);
  g_mutex_clear (&job->lock);
  g_free (job->live.pixels);
}

void
cs_actmax_job_unref (gpointer job)
{
  g_atomic_rc_box_release_full (job, actmax_job_clear);
}

static void
actmax_step_cb (void *user_data, const cs_actmax_step *step)
{
  CsActmaxJob *job = user_data;
  gsize n = (gsize) step->channels * step->height * step->width;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&job->lock);
  if (job->live.pixels == NULL)
    job->live.pixels = g_new (float, n);
  memcpy (job->live.pixels, step->images, n * sizeof (float));
  job->live.c = step->channels;
  job->live.h = step->height;
  job->live.w = step->width;
  job->live.activation = step->activations[0];
  job->step = step->step;
  job->steps = step->steps;
  /* Throttled: the picture need not change faster than the eye follows. Default priority:
   * queued before the job returns, a step is shown before the final image. */
  if (!job->pending && job->on_step != NULL && now - job->last_push >= 50000)
    {
      job->pending = TRUE;
      job->last_push = now;
      g_idle_add_full (G_PRIORITY_DEFAULT, job->on_step, cs_actmax_job_ref (job),
                       cs_actmax_job_unref);
    }
  g_mutex_unlock (&job->lock);
}

static CsUnitImage *
run_actmax (CsWorkerJob *wjob, CsModelSet *set, int epoch, int layer, int unit,
            const cs_actmax_params *p, cs_actmax_step_fn step_fn, void *user_data,
            const cs_progress *progress, GError **error)
{
  cs_exec *e = cs_worker_job_get_exec (wjob, set, epoch, error);
  cs_actmax_result r = { 0 };
  cs_error err = { 0 };
  CsUnitImage *image;
  int32_t u = unit;

  if (e == NULL)
    return NULL;
  if (cs_actmax_run (e, layer, &u, 1, p, step_fn, user_data, progress, &r, &err) != CS_OK)
    {
      set_status_error (error, &err);
      return NULL;
    }
  image = g_new0 (CsUnitImage, 1);
  image->epoch = epoch;
  image->layer = layer;
  image->unit = unit;
  image->c = (int) r.images.shape.dim[1];
  image->h = (int) r.images.shape.dim[2];
  image->w = (int) r.images.shape.dim[3];
  image->pixels = g_memdup2 (r.images.data, (gsize) image->c * image->h * image->w * sizeof (float));
  image->activation = r.final[0];
  image->seconds = r.seconds;
  cs_actmax_result_free (&r);
  return image;
}

gpointer
cs_actmax_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsActmaxJob *job = data;

  return run_actmax (wjob, job->set, job->epoch, job->layer, job->unit, &job->params,
                     actmax_step_cb, job, cs_worker_job_get_progress (wjob), error);
}

/* Data sets. */

struct _CsDatasetRef
{
  char *spec;
  GMutex lock;
  gboolean loaded;
  cs_dataset ds;
};

CsDatasetRef *
cs_dataset_ref_new (const char *spec)
{
  CsDatasetRef *ref = g_atomic_rc_box_new0 (CsDatasetRef);

  ref->spec = g_strdup (spec);
  g_mutex_init (&ref->lock);
  return ref;
}

CsDatasetRef *
cs_dataset_ref_ref (CsDatasetRef *ref)
{
  return g_atomic_rc_box_acquire (ref);
}

static void
dataset_ref_clear (gpointer data)
{
  CsDatasetRef *ref = data;

  if (ref->loaded)
    cs_dataset_free (&ref->ds);
  g_mutex_clear (&ref->lock);
  g_free (ref->spec);
}

void
cs_dataset_ref_unref (gpointer ref)
{
  g_atomic_rc_box_release_full (ref, dataset_ref_clear);
}

const char *
cs_dataset_ref_get_spec (CsDatasetRef *ref)
{
  return ref->spec;
}

/* Loads the data set on first use; later jobs only read it. */
static const cs_dataset *
dataset_ref_get (CsDatasetRef *ref, GError **error)
{
  cs_error err = { 0 };
  const cs_dataset *ds = NULL;

  g_mutex_lock (&ref->lock);
  if (!ref->loaded)
    {
      if (cs_dataset_open (ref->spec, &ref->ds, &err) == CS_OK)
        ref->loaded = TRUE;
      else
        cs_set_core_error (error, &err);
    }
  if (ref->loaded)
    ds = &ref->ds;
  g_mutex_unlock (&ref->lock);
  return ds;
}

char *
cs_dataset_spec_for_run (const cs_run *run)
{
  cJSON *root;
  const cJSON *spec, *name, *dir;
  char *out = NULL;

  if (run == NULL || run->dataset_json == NULL || (root = cJSON_Parse (run->dataset_json)) == NULL)
    return NULL;
  spec = cJSON_GetObjectItemCaseSensitive (root, "spec");
  name = cJSON_GetObjectItemCaseSensitive (root, "name");
  dir = cJSON_GetObjectItemCaseSensitive (root, "dir");
  if (cJSON_IsString (spec))
    out = g_strdup (spec->valuestring);
  else if (cJSON_IsString (name) && cJSON_IsString (dir))
    out = g_strdup_printf ("%s:%s", name->valuestring, dir->valuestring);
  else if (cJSON_IsString (name) && g_str_equal (name->valuestring, "fashion-mnist"))
    out = g_strdup ("fashion-mnist");
  cJSON_Delete (root);

  /* "mnist:DIR" with a DIR relative to the run. */
  if (out != NULL)
    {
      char *colon = strchr (out, ':');
      if (colon != NULL && colon[1] != '\0' && !g_path_is_absolute (colon + 1))
        {
          char *abs;
          *colon = '\0';
          abs = g_strdup_printf ("%s:%s/%s", out, run->dir, colon + 1);
          g_free (out);
          out = abs;
        }
    }
  return out;
}

/* Top examples. */

void
cs_topk_job_free (gpointer data)
{
  CsTopkJob *job = data;

  cs_model_set_unref (job->set);
  cs_dataset_ref_unref (job->dataset);
  g_free (job);
}

typedef struct
{
  CsWorkerJob *wjob;
  CsTopkJob *job;
} TopkProgress;

static void
topk_progress_cb (void *user_data, double fraction)
{
  TopkProgress *tp = user_data;

  g_atomic_int_set (&tp->job->permille, (int) (fraction * 1000));
  cs_worker_job_set_fraction (tp->wjob, fraction);
}

gpointer
cs_topk_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsTopkJob *job = data;
  const cs_dataset *ds = dataset_ref_get (job->dataset, error);
  const cs_model *m;
  const cs_dataset_split *split;
  cs_topk_params p = { .node = job->layer, .channel = -1, .k = job->k, .reduce = CS_TOPK_MAX };
  TopkProgress tp = { wjob, job };
  cs_progress progress = *cs_worker_job_get_progress (wjob);
  cs_error err = { 0 };
  CsTopkResult *r;
  cs_exec *e;
  gsize chw;

  if (ds == NULL)
    return NULL;
  split = job->train_split ? &ds->train : &ds->test;
  m = cs_model_set_get_epoch (job->set, job->epoch, error);
  if (m == NULL)
    return NULL;
  if (split->channels != m->channels || split->height != m->height || split->width != m->width)
    {
      g_set_error (error, CS_CORE_ERROR, CS_ERR_SHAPE,
                   _("%s: the data set's images are %d×%d×%d, the model expects %d×%d×%d"),
                   job->dataset->spec, split->channels, split->height, split->width, m->channels,
                   m->height, m->width);
      return NULL;
    }
  e = cs_worker_job_get_exec (wjob, job->set, job->epoch, error);
  if (e == NULL)
    return NULL;
  progress.progress = topk_progress_cb;
  progress.user_data = &tp;

  r = g_new0 (CsTopkResult, 1);
  if (cs_topk_run_split (e, split, split->n, m->mean, m->std, &p, &progress, &r->topk, &err) != CS_OK)
    {
      g_free (r);
      set_status_error (error, &err);
      return NULL;
    }
  r->epoch = job->epoch;
  r->layer = job->layer;
  r->train_split = job->train_split;
  r->c = split->channels;
  r->h = split->height;
  r->w = split->width;
  chw = (gsize) r->c * r->h * r->w;
  /* A copy of the examples' pixels, so that the result outlives the data set. */
  r->pixels = g_malloc0 ((gsize) r->topk.n_channels * r->topk.k * chw);
  for (int32_t c = 0; c < r->topk.n_channels; c++)
    for (int32_t i = 0; i < r->topk.count[c]; i++)
      {
        const cs_top_example *ex = &r->topk.examples[(gsize) c * r->topk.k + i];
        memcpy (r->pixels + ((gsize) c * r->topk.k + i) * chw, split->images + ex->index * chw, chw);
      }
  return r;
}

void
cs_topk_result_free_all (gpointer data)
{
  CsTopkResult *r = data;

  cs_topk_result_free (&r->topk);
  g_free (r->pixels);
  g_free (r);
}

GdkTexture *
cs_topk_result_texture (const CsTopkResult *r, int channel, int i, int min_size)
{
  const cs_top_example *ex;
  int32_t count;
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *src;
  int scale, W, H;
  guint8 *rgb;
  int x0, y0, x1, y1;

  ex = cs_topk_channel (&r->topk, channel, &count);
  if (ex == NULL || i >= count)
    return NULL;
  ex += i;
  src = r->pixels + ((gsize) (channel - r->topk.first_channel) * r->topk.k + i) * r->c * r->h * r->w;
  scale = MAX (1, (min_size + MAX (r->h, r->w) - 1) / MAX (r->h, r->w));
  W = r->w * scale, H = r->h * scale;
  rgb = g_malloc ((gsize) W * H * 3);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        {
          gsize plane = (gsize) r->h * r->w;
          guint8 v = src[(r->c >= 3 ? c : 0) * plane + (gsize) (y / scale) * r->w + x / scale];
          /* Outside the receptive field the image is dimmed, so that the patch stands out. */
          gboolean inside = x / scale >= ex->box[0] && x / scale < ex->box[2]
                            && y / scale >= ex->box[1] && y / scale < ex->box[3];
          rgb[((gsize) y * W + x) * 3 + c] = inside ? v : (guint8) (v * 2 / 5);
        }
  /* The box's outline, two pixels wide, in the accent orange. */
  x0 = ex->box[0] * scale, y0 = ex->box[1] * scale;
  x1 = ex->box[2] * scale - 1, y1 = ex->box[3] * scale - 1;
  for (int y = MAX (y0, 0); y <= MIN (y1, H - 1); y++)
    for (int x = MAX (x0, 0); x <= MIN (x1, W - 1); x++)
      if (y - y0 < 2 || y1 - y < 2 || x - x0 < 2 || x1 - x < 2)
        {
          guint8 *px = rgb + ((gsize) y * W + x) * 3;
          px[0] = 255, px[1] = 140, px[2] = 0;
        }
  bytes = g_bytes_new_take (rgb, (gsize) W * H * 3);
  return gdk_memory_texture_new (W, H, GDK_MEMORY_R8G8B8, bytes, (gsize) W * 3);
}

/* Evolution over training. */

CsEvolutionJob *
cs_evolution_job_new (CsModelSet *set, int layer, int unit, const cs_actmax_params *params,
                      const int *order, int n_order)
{
  CsEvolutionJob *job = g_atomic_rc_box_new0 (CsEvolutionJob);

  job->set = cs_model_set_ref (set);
  job->layer = layer;
  job->unit = unit;
  job->params = *params;
  job->n_order = n_order;
  job->order = g_memdup2 (order, (gsize) MAX (n_order, 1) * sizeof (int));
  g_weak_ref_init (&job->owner, NULL);
  g_mutex_init (&job->lock);
  job->ready = g_ptr_array_new_with_free_func (cs_unit_image_free);
  return job;
}

CsEvolutionJob *
cs_evolution_job_ref (CsEvolutionJob *job)
{
  return g_atomic_rc_box_acquire (job);
}

static void
evolution_job_clear (gpointer data)
{
  CsEvolutionJob *job = data;

  cs_model_set_unref (job->set);
  g_free (job->order);
  g_weak_ref_clear (&job->owner);
  g_mutex_clear (&job->lock);
  g_ptr_array_unref (job->ready);
}

void
cs_evolution_job_unref (gpointer job)
{
  g_atomic_rc_box_release_full (job, evolution_job_clear);
}

GPtrArray *
cs_evolution_job_take_ready (CsEvolutionJob *job)
{
  GPtrArray *out;

  g_mutex_lock (&job->lock);
  out = job->ready;
  job->ready = g_ptr_array_new_with_free_func (cs_unit_image_free);
  job->pending = FALSE;
  g_mutex_unlock (&job->lock);
  return out;
}

static void
evolution_push (CsEvolutionJob *job, CsUnitImage *cell)
{
  g_mutex_lock (&job->lock);
  g_ptr_array_add (job->ready, cell);
  if (!job->pending && job->on_cell != NULL)
    {
      job->pending = TRUE;
      g_idle_add_full (G_PRIORITY_LOW, job->on_cell, cs_evolution_job_ref (job),
                       cs_evolution_job_unref);
    }
  g_mutex_unlock (&job->lock);
}

/* The unit's filter at every epoch on one scale: RGB for 3 input channels, the kernel itself
 * for one, else the mean |w| over input channels (where the filter looks). */
static void
push_weights (CsEvolutionJob *job, GError **error)
{
  const cs_graph *g = cs_model_set_get_graph (job->set);
  int node = cs_unit_weight_node (g, job->layer);
  int n_epochs = cs_model_set_get_n_epochs (job->set);
  g_autoptr (GPtrArray) cells = g_ptr_array_new ();
  float maxabs = 0;

  if (node < 0 || g->nodes[node].op != CS_OP_CONV2D)
    return;
  for (int e = 0; e < n_epochs; e++)
    {
      const cs_model *m = cs_model_set_get_epoch (job->set, e, error);
      int64_t M, fsize, C, kh, kw;
      gboolean trans;
      const float *w;
      CsUnitImage *cell;

      if (m == NULL)
        return;
      w = filter_layout (g, m, node, &M, &fsize, &C, &kh, &kw, &trans);
      if (w == NULL || job->unit >= M)
        return;
      w += (gsize) job->unit * fsize;
      cell = g_new0 (CsUnitImage, 1);
      cell->epoch = e;
      cell->layer = -1;
      cell->unit = job->unit;
      cell->c = C == 3 ? 3 : 1;
      cell->h = (int) kh;
      cell->w = (int) kw;
      cell->pixels = g_new0 (float, (gsize) cell->c * kh * kw);
      for (int64_t i = 0; i < kh * kw; i++)
        {
          if (C == 3 || C == 1)
            for (int c = 0; c < cell->c; c++)
              cell->pixels[c * kh * kw + i] = w[c * kh * kw + i];
          else
            {
              float s = 0;
              for (int64_t c = 0; c < C; c++)
                s += fabsf (w[c * kh * kw + i]);
              cell->pixels[i] = s / (float) C;
            }
        }
      for (int64_t i = 0; i < cell->c * kh * kw; i++)
        maxabs = MAX (maxabs, fabsf (cell->pixels[i]));
      g_ptr_array_add (cells, cell);
    }
  for (guint i = 0; i < cells->len; i++)
    {
      CsUnitImage *cell = g_ptr_array_index (cells, i);
      gboolean signed_values = !(cell->c == 1 && g->nodes[g->nodes[node].inputs[0]].shape.dim[1] > 3);
      for (int64_t k = 0; k < (int64_t) cell->c * cell->h * cell->w; k++)
        cell->pixels[k] = maxabs <= 0 ? 0.5f
                          : signed_values ? 0.5f + 0.5f * cell->pixels[k] / maxabs
                          : cell->pixels[k] / maxabs;
      evolution_push (job, cell);
    }
}

gpointer
cs_evolution_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsEvolutionJob *job = data;

  push_weights (job, error);
  if (error != NULL && *error != NULL)
    return NULL;
  for (int i = 0; i < job->n_order; i++)
    {
      CsUnitImage *cell;

      if (cs_worker_job_is_cancelled (wjob))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
          return NULL;
        }
      cell = run_actmax (wjob, job->set, job->order[i], job->layer, job->unit, &job->params,
                         NULL, NULL, cs_worker_job_get_progress (wjob), error);
      if (cell == NULL)
        return NULL;
      evolution_push (job, cell);
      cs_worker_job_set_fraction (wjob, (double) (i + 1) / job->n_order);
    }
  return GINT_TO_POINTER (1);
}

/* Rankings. */

void
cs_rank_job_free (gpointer data)
{
  CsRankJob *job = data;

  cs_model_set_unref (job->set);
  g_free (job);
}

static int
compare_ranked (gconstpointer a, gconstpointer b)
{
  const CsRankedFilter *x = a, *y = b;

  return (x->change < y->change) - (x->change > y->change);
}

gpointer
cs_rank_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsRankJob *job = data;
  const cs_graph *g = cs_model_set_get_graph (job->set);
  const cs_model *ma = cs_model_set_get_epoch (job->set, job->epoch_a, error);
  const cs_model *mb = ma != NULL ? cs_model_set_get_epoch (job->set, job->epoch_b, error) : NULL;
  GArray *out;

  if (mb == NULL)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (CsRankedFilter));
  for (int id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      int64_t M, fsize, C, kh, kw;
      gboolean trans;
      const float *wa, *wb;

      /* Convolution filters only: a classifier's rows change most and would fill the list. */
      if (n->op != CS_OP_CONV2D || n->n_inputs < 2
          || g->nodes[n->inputs[1]].op != CS_OP_PARAM)
        continue;
      wa = filter_layout (g, ma, id, &M, &fsize, &C, &kh, &kw, &trans);
      wb = filter_layout (g, mb, id, &M, &fsize, &C, &kh, &kw, &trans);
      if (wa == NULL || wb == NULL)
        continue;
      for (int64_t k = 0; k < M; k++)
        {
          double d = 0, s = 0;
          for (int64_t i = 0; i < fsize; i++)
            {
              gsize at = trans ? (gsize) (i * M + k) : (gsize) (k * fsize + i);
              d += ((double) wb[at] - wa[at]) * ((double) wb[at] - wa[at]);
              s += (double) wa[at] * wa[at];
            }
          g_array_append_val (out, ((CsRankedFilter) { id, (int) k, s > 0 ? (float) sqrt (d / s) : 0.0f }));
        }
      if (cs_worker_job_is_cancelled (wjob))
        break;
    }
  g_array_sort (out, compare_ranked);
  return out;
}

/* Weight statistics. */

gpointer
cs_run_stats_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsModelSet *set = data;
  const cs_run *run = cs_model_set_get_run (set);
  cs_error err = { 0 };
  cs_run_stats *rs;

  if (run == NULL)
    {
      g_set_error_literal (error, CS_CORE_ERROR, CS_ERR_ARGUMENT, "not a training run");
      return NULL;
    }
  rs = cs_run_stats_load (run, cs_worker_job_get_progress (wjob), &err);
  if (rs == NULL)
    set_status_error (error, &err);
  return rs;
}

void
cs_run_stats_result_free (gpointer stats)
{
  cs_run_stats_free (stats);
}
