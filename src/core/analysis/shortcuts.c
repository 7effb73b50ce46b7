/* Shortcuts: explain each class's correctly classified images, cluster the maps (SpRAy, in
 * spray.c) and find the small box where their mass concentrates (see shortcuts.h). */
#include "analysis/shortcuts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

#define SHORTCUT_BATCH 64
/* SpRAy compares maps at a coarse resolution (its authors downsize the heatmaps): at most
 * this many cells per side. */
#define SPRAY_SIDE 14
#define SPRAY_MAX_CLUSTERS 8
/* A box counts as small up to this fraction of the image; an image concentrates on it when the
 * box holds at least IMAGE_SHARE of its mass; a class is flagged when at least FLAG_IMAGES of
 * its images do. */
#define SMALL_BOX_AREA (1.0 / 16.0)
#define IMAGE_SHARE 0.25
#define FLAG_IMAGES 0.5

void
cs_shortcut_report_free (cs_shortcut_report *r)
{
  if (r == NULL)
    return;
  for (int32_t c = 0; r->classes != NULL && c < r->n_classes; c++)
    {
      cs_shortcut_class *k = &r->classes[c];
      for (int32_t j = 0; k->clusters != NULL && j < k->n_clusters; j++)
        {
          free (k->clusters[j].members);
          free (k->clusters[j].mean_map);
        }
      free (k->clusters);
      free (k->images);
      free (k->maps);
    }
  free (r->classes);
  free (r);
}

/* Sum of map over [x0, x1] x [y0, y1] from its integral image (ii has (H+1) x (W+1) cells). */
static double
box_sum (const double *ii, int32_t width, int32_t x0, int32_t y0, int32_t x1, int32_t y1)
{
  int32_t w = width + 1;
  return ii[(y1 + 1) * w + x1 + 1] - ii[y0 * w + x1 + 1] - ii[(y1 + 1) * w + x0] + ii[y0 * w + x0];
}

void
cs_shortcut_find_box (const float *maps, int32_t n, int32_t height, int32_t width, int32_t box[4],
                      double *box_mass, double *box_images)
{
  size_t cells = (size_t) (height + 1) * (size_t) (width + 1);
  double *ii = calloc ((size_t) (n > 0 ? n : 1) * cells, sizeof *ii);
  box[0] = box[1] = 0;
  box[2] = width - 1;
  box[3] = height - 1;
  *box_mass = n > 0 ? 1.0 : 0.0;
  *box_images = n > 0 ? 1.0 : 0.0;
  if (ii == NULL || n == 0)
    {
      free (ii);
      return;
    }
  for (int32_t i = 0; i < n; i++)
    {
      double *t = ii + (size_t) i * cells;
      for (int32_t y = 0; y < height; y++)
        for (int32_t x = 0; x < width; x++)
          t[(y + 1) * (width + 1) + x + 1] = maps[((size_t) i * height + y) * width + x] + t[y * (width + 1) + x + 1]
                                             + t[(y + 1) * (width + 1) + x] - t[y * (width + 1) + x];
    }
  /* Square boxes of an eighth, a sixth and a quarter of the smaller side; the winner has the
   * largest mean mass per unit of area (so a larger box must earn its size). */
  int32_t side = height < width ? height : width;
  const double fractions[] = { 1.0 / 8.0, 1.0 / 6.0, 1.0 / 4.0 };
  double best_lift = -1.0;
  for (int f = 0; f < 3; f++)
    {
      int32_t s = (int32_t) lround (side * fractions[f]);
      if (s < 2)
        s = 2;
      if (s > side)
        s = side;
      double area = (double) s * s / ((double) height * width);
      for (int32_t y = 0; y + s <= height; y++)
        for (int32_t x = 0; x + s <= width; x++)
          {
            double mass = 0.0;
            for (int32_t i = 0; i < n; i++)
              mass += box_sum (ii + (size_t) i * cells, width, x, y, x + s - 1, y + s - 1);
            mass /= n;
            if (mass / area > best_lift)
              {
                best_lift = mass / area;
                box[0] = x;
                box[1] = y;
                box[2] = x + s - 1;
                box[3] = y + s - 1;
                *box_mass = mass;
              }
          }
    }
  int32_t inside = 0;
  for (int32_t i = 0; i < n; i++)
    inside += box_sum (ii + (size_t) i * cells, width, box[0], box[1], box[2], box[3]) >= IMAGE_SHARE;
  *box_images = (double) inside / n;
  free (ii);
}

/* Area-average of an h x w map onto at most SPRAY_SIDE cells per side. */
static int32_t
downsample (const float *map, int32_t h, int32_t w, float *out)
{
  int32_t oh = h < SPRAY_SIDE ? h : SPRAY_SIDE, ow = w < SPRAY_SIDE ? w : SPRAY_SIDE;
  memset (out, 0, (size_t) oh * (size_t) ow * sizeof *out);
  for (int32_t y = 0; y < h; y++)
    for (int32_t x = 0; x < w; x++)
      out[(int64_t) y * oh / h * ow + (int64_t) x * ow / w] += map[y * w + x];
  return oh * ow;
}

/* The predicted class of every example (batched forward passes). */
static cs_status
predict_all (cs_exec *ex, const cs_model *m, const cs_dataset_split *split, const int64_t *examples, int64_t n,
             const cs_shortcut_options *o, uint8_t *pred, cs_error *err)
{
  size_t pixels = (size_t) split->channels * split->height * split->width;
  float *x = malloc (SHORTCUT_BATCH * pixels * sizeof *x);
  if (x == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  cs_status st = CS_OK;
  for (int64_t start = 0; st == CS_OK && start < n; start += SHORTCUT_BATCH)
    {
      int64_t b = n - start < SHORTCUT_BATCH ? n - start : SHORTCUT_BATCH;
      cs_dataset_batch (split, examples + start, b, o->mean, o->std, x, NULL);
      cs_shape shape = cs_shape_4d (b, split->channels, split->height, split->width);
      cs_tensor in = cs_tensor_view (&shape, x);
      if ((st = cs_exec_forward (ex, &in, err)) != CS_OK)
        break;
      const float *z = cs_exec_value (ex, m->graph->output_node)->data;
      for (int64_t i = 0; i < b; i++)
        {
          int32_t best = 0;
          for (int32_t c = 1; c < m->n_classes; c++)
            if (z[i * m->n_classes + c] > z[i * m->n_classes + best])
              best = c;
          pred[start + i] = (uint8_t) best;
        }
    }
  free (x);
  return st;
}

/* Explains example `index` for class c; writes its map scaled to sum 1. false: an empty map. */
static cs_status
explain_one (cs_exec *ex, const cs_dataset_split *split, int64_t index, int32_t c, const cs_shortcut_options *o,
             float *map, bool *empty, cs_error *err)
{
  size_t pixels = (size_t) split->channels * split->height * split->width;
  float *x = malloc (pixels * sizeof *x);
  if (x == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  cs_dataset_batch (split, &index, 1, o->mean, o->std, x, NULL);
  cs_shape shape = cs_shape_4d (1, split->channels, split->height, split->width);
  cs_tensor in = cs_tensor_view (&shape, x);
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = o->method;
  p.target = c;
  p.layer = o->layer;
  p.seed = (uint64_t) index;
  cs_attribution a = { 0 };
  cs_status st = cs_attribution_run (ex, &in, &p, NULL, &a, err);
  free (x);
  if (st != CS_OK)
    return st;
  int64_t hw = (int64_t) split->height * split->width;
  double sum = 0.0;
  for (int64_t i = 0; i < hw && cs_tensor_numel (&a.map) == hw; i++)
    sum += a.map.data[i];
  *empty = !(sum > 0.0) || !isfinite (sum);
  for (int64_t i = 0; !*empty && i < hw; i++)
    map[i] = (float) (a.map.data[i] / sum);
  cs_attribution_free (&a);
  return CS_OK;
}

/* SpRAy's clusters of one class, with their members and mean maps. */
static cs_status
cluster_class (cs_shortcut_class *k, int32_t h, int32_t w, cs_error *err)
{
  int32_t n = k->n_images, hw = h * w;
  float *small = malloc ((size_t) (n > 0 ? n : 1) * SPRAY_SIDE * SPRAY_SIDE * sizeof *small);
  int32_t *assign = malloc ((size_t) (n > 0 ? n : 1) * sizeof *assign);
  if (small == NULL || assign == NULL)
    {
      free (small);
      free (assign);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  int32_t dim = 0;
  for (int32_t i = 0; i < n; i++)
    dim = downsample (k->maps + (size_t) i * hw, h, w, small + (size_t) i * SPRAY_SIDE * SPRAY_SIDE);
  for (int32_t i = 1; dim < SPRAY_SIDE * SPRAY_SIDE && i < n; i++)
    memmove (small + (size_t) i * dim, small + (size_t) i * SPRAY_SIDE * SPRAY_SIDE, (size_t) dim * sizeof *small);
  int32_t nk = n > 0 ? cs_spray_cluster (small, n, dim, SPRAY_MAX_CLUSTERS, assign, &k->eigengap, err) : 0;
  free (small);
  if (nk < 0)
    {
      free (assign);
      return err->code;
    }
  k->clusters = calloc ((size_t) (nk > 0 ? nk : 1), sizeof *k->clusters);
  cs_status st = k->clusters != NULL ? CS_OK : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t j = 0; st == CS_OK && j < nk; j++)
    {
      cs_shortcut_cluster *cl = &k->clusters[j];
      cl->members = malloc ((size_t) (n > 0 ? n : 1) * sizeof *cl->members);
      cl->mean_map = calloc ((size_t) hw, sizeof *cl->mean_map);
      if (cl->members == NULL || cl->mean_map == NULL)
        st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      for (int32_t i = 0; st == CS_OK && i < n; i++)
        if (assign[i] == j)
          {
            cl->members[cl->size++] = k->images[i];
            for (int32_t t = 0; t < hw; t++)
              cl->mean_map[t] += k->maps[(size_t) i * hw + t];
          }
      for (int32_t t = 0; st == CS_OK && cl->size > 0 && t < hw; t++)
        cl->mean_map[t] /= (float) cl->size;
      k->n_clusters = j + 1;
      /* k-means may leave a cluster empty: clusters are ordered by size, so stop there. */
      if (st == CS_OK && cl->size == 0)
        {
          k->n_clusters = j;
          free (cl->members);
          free (cl->mean_map);
          cl->members = NULL;
          cl->mean_map = NULL;
          break;
        }
    }
  free (assign);
  return st;
}

/* Explains up to per_class right answers of class c and analyses their maps. */
static cs_status
analyse_class (cs_exec *ex, const cs_dataset_split *split, const int64_t *examples, const uint8_t *pred,
               int64_t n, int32_t c, const cs_shortcut_options *o, cs_shortcut_class *k, cs_error *err)
{
  int32_t h = split->height, w = split->width, hw = h * w;
  k->cls = c;
  k->images = malloc ((size_t) o->per_class * sizeof *k->images);
  k->maps = malloc ((size_t) o->per_class * (size_t) hw * sizeof *k->maps);
  if (k->images == NULL || k->maps == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  cs_status st = CS_OK;
  for (int64_t i = 0; st == CS_OK && i < n && k->n_images < o->per_class; i++)
    {
      if (split->labels[examples[i]] != c || pred[i] != c)
        continue;
      bool empty = false;
      st = explain_one (ex, split, examples[i], c, o, k->maps + (size_t) k->n_images * hw, &empty, err);
      if (st == CS_OK && !empty)
        k->images[k->n_images++] = examples[i];
    }
  if (st == CS_OK)
    st = cluster_class (k, h, w, err);
  if (st == CS_OK)
    {
      cs_shortcut_find_box (k->maps, k->n_images, h, w, k->box, &k->box_mass, &k->box_images);
      double area = (double) (k->box[2] - k->box[0] + 1) * (k->box[3] - k->box[1] + 1) / ((double) hw);
      k->flagged = k->n_images >= 3 && area <= SMALL_BOX_AREA && k->box_images >= FLAG_IMAGES;
    }
  return st;
}

cs_shortcut_report *
cs_shortcuts_analyse (const cs_model *m, const cs_dataset *ds, const int64_t *examples, int64_t n_examples,
                      const cs_shortcut_options *opts, const cs_progress *progress, cs_error *err)
{
  const cs_dataset_split *split = &ds->test;
  if (split->channels != m->channels || split->height != m->height || split->width != m->width
      || ds->n_classes > m->n_classes || opts->per_class < 1)
    {
      cs_error_set (err, CS_ERR_SHAPE, "%s: the data set's %dx%dx%d images and %d classes do not fit the model "
                    "(%dx%dx%d, %d outputs)", m->path, split->channels, split->height, split->width, ds->n_classes,
                    m->channels, m->height, m->width, m->n_classes);
      return NULL;
    }
  cs_shortcut_report *r = calloc (1, sizeof *r);
  uint8_t *pred = malloc ((size_t) (n_examples > 0 ? n_examples : 1));
  cs_exec *ex = r != NULL && pred != NULL ? cs_exec_new (m, SHORTCUT_BATCH, err) : NULL;
  cs_status st = ex != NULL ? CS_OK : (r == NULL || pred == NULL ? cs_error_set (err, CS_ERR_MEMORY, "out of memory")
                                                                 : err->code);
  if (st == CS_OK)
    {
      r->height = split->height;
      r->width = split->width;
      r->n_classes = ds->n_classes;
      r->classes = calloc ((size_t) ds->n_classes, sizeof *r->classes);
      st = r->classes != NULL ? predict_all (ex, m, split, examples, n_examples, opts, pred, err)
                              : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  for (int32_t c = 0; st == CS_OK && c < ds->n_classes; c++)
    {
      if (cs_progress_cancelled (progress))
        st = cs_error_set (err, CS_ERR_CANCELLED, "shortcut analysis cancelled");
      else
        st = analyse_class (ex, split, examples, pred, n_examples, c, opts, &r->classes[c], err);
      cs_progress_report (progress, (double) (c + 1) / ds->n_classes);
    }
  cs_exec_free (ex);
  free (pred);
  if (st != CS_OK)
    {
      cs_shortcut_report_free (r);
      return NULL;
    }
  return r;
}
