/* Data set SPECs resolved to IDX files; subsets, statistics and batches. */
#include "data/dataset.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rng.h"
#include "data/idx.h"

const char *const cs_fashion_mnist_classes[10] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
  "Ankle boot",
};
static const char *const digit_classes[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

/* "DIR/base.gz" when it exists, else "DIR/base" (whose absence the reader reports). */
static char *
find_file (const char *dir, const char *base)
{
  size_t len = strlen (dir) + strlen (base) + 8;
  char *path = malloc (len);
  if (path == NULL)
    return NULL;
  snprintf (path, len, "%s/%s.gz", dir, base);
  if (access (path, R_OK) != 0)
    snprintf (path, len, "%s/%s", dir, base);
  return path;
}

static cs_status
load_idx (const char *dir, const char *base, cs_idx *idx, char **used, cs_error *err)
{
  *used = find_file (dir, base);
  if (*used == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  return cs_idx_load (*used, idx, err);
}

static cs_status
load_split (cs_dataset *ds, const char *prefix, cs_dataset_split *split, cs_error *err)
{
  char ibase[64], lbase[64];
  snprintf (ibase, sizeof ibase, "%s-images-idx3-ubyte", prefix);
  snprintf (lbase, sizeof lbase, "%s-labels-idx1-ubyte", prefix);
  cs_idx images = { 0 }, labels = { 0 };
  char *ipath = NULL, *lpath = NULL;
  cs_status st = load_idx (ds->dir, ibase, &images, &ipath, err);
  if (st == CS_OK)
    st = load_idx (ds->dir, lbase, &labels, &lpath, err);
  if (st == CS_OK && images.ndim != 3)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: images need 3 dims (count, height, width), the file has %d",
                       ipath, images.ndim);
  if (st == CS_OK && labels.ndim != 1)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: labels need 1 dim, the file has %d", lpath, labels.ndim);
  if (st == CS_OK && labels.dim[0] != images.dim[0])
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: %lld labels for %lld images in %s", lpath,
                       (long long) labels.dim[0], (long long) images.dim[0], ipath);
  for (int64_t i = 0; st == CS_OK && i < labels.size; i++)
    if (labels.data[i] >= ds->n_classes)
      st = cs_error_set (err, CS_ERR_FORMAT, "%s: label %d of sample %lld is not below %d classes", lpath,
                         labels.data[i], (long long) i, ds->n_classes);
  if (st == CS_OK)
    {
      split->n = images.dim[0];
      split->channels = 1;
      split->height = (int32_t) images.dim[1];
      split->width = (int32_t) images.dim[2];
      split->images = images.data;
      split->labels = labels.data;
    }
  else
    {
      cs_idx_free (&images);
      cs_idx_free (&labels);
    }
  free (ipath);
  free (lpath);
  return st;
}

cs_status
cs_dataset_open (const char *spec, cs_dataset *ds, cs_error *err)
{
  memset (ds, 0, sizeof *ds);
  const char *colon = strchr (spec, ':');
  size_t name_len = colon != NULL ? (size_t) (colon - spec) : strlen (spec);
  const char *dir = colon != NULL ? colon + 1 : NULL;
  bool debian = false;
  if (name_len == strlen ("fashion-mnist") && strncmp (spec, "fashion-mnist", name_len) == 0)
    {
      ds->name = strdup ("fashion-mnist");
      ds->classes = cs_fashion_mnist_classes;
      debian = dir == NULL;
      if (debian)
        dir = CS_FASHION_MNIST_DIR;
    }
  else if (name_len == strlen ("mnist") && strncmp (spec, "mnist", name_len) == 0 && dir != NULL)
    {
      ds->name = strdup ("mnist");
      ds->classes = digit_classes;
    }
  else
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: unknown data set (expected fashion-mnist, "
                         "fashion-mnist:DIR or mnist:DIR)", spec);
  if (*dir == '\0')
    {
      cs_dataset_free (ds);
      return cs_error_set (err, CS_ERR_ARGUMENT, "%s: empty directory", spec);
    }
  ds->n_classes = 10;
  ds->dir = strdup (dir);
  if (ds->name == NULL || ds->dir == NULL)
    {
      cs_dataset_free (ds);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  cs_status st = load_split (ds, "train", &ds->train, err);
  if (st == CS_OK)
    st = load_split (ds, "t10k", &ds->test, err);
  if (st == CS_OK && (ds->train.height != ds->test.height || ds->train.width != ds->test.width))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: training images are %dx%d, test images %dx%d", ds->dir,
                       ds->train.height, ds->train.width, ds->test.height, ds->test.width);
  if (st == CS_ERR_IO && debian)
    cs_error_prefix (err, "fashion-mnist (install Debian's dataset-fashion-mnist)");
  if (st != CS_OK)
    cs_dataset_free (ds);
  return st;
}

void
cs_dataset_free (cs_dataset *ds)
{
  free (ds->name);
  free (ds->dir);
  free (ds->train.images);
  free (ds->train.labels);
  free (ds->test.images);
  free (ds->test.labels);
  memset (ds, 0, sizeof *ds);
}

static int
compare_index (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return (x > y) - (x < y);
}

cs_status
cs_dataset_subset (int64_t total, int64_t count, uint64_t seed, int64_t **indices, int64_t *n_out,
                   cs_error *err)
{
  *indices = NULL;
  *n_out = 0;
  if (total < 1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "an empty data set has no subset");
  int64_t *all = malloc ((size_t) total * sizeof *all);
  if (all == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int64_t i = 0; i < total; i++)
    all[i] = i;
  if (count > 0 && count < total)
    {
      /* The first `count` steps of a Fisher-Yates shuffle draw a uniform subset. */
      cs_rng rng;
      cs_rng_seed (&rng, seed);
      for (int64_t i = 0; i < count; i++)
        {
          int64_t j = i + (int64_t) cs_rng_below (&rng, (uint64_t) (total - i));
          int64_t t = all[i];
          all[i] = all[j];
          all[j] = t;
        }
      qsort (all, (size_t) count, sizeof *all, compare_index);
    }
  else
    count = total;
  *indices = all;
  *n_out = count;
  return CS_OK;
}

void
cs_dataset_stats (const cs_dataset_split *s, const int64_t *indices, int64_t n, float *mean, float *std)
{
  int64_t plane = (int64_t) s->height * s->width;
  for (int32_t c = 0; c < s->channels; c++)
    {
      /* integer histogram: exact, and independent of the summation order */
      uint64_t hist[256] = { 0 };
      for (int64_t i = 0; i < n; i++)
        {
          const uint8_t *p = s->images + (indices[i] * s->channels + c) * plane;
          for (int64_t k = 0; k < plane; k++)
            hist[p[k]]++;
        }
      double count = (double) n * (double) plane, sum = 0.0, sq = 0.0;
      for (int v = 0; v < 256; v++)
        sum += (double) hist[v] * (v / 255.0);
      double m = count > 0 ? sum / count : 0.0;
      for (int v = 0; v < 256; v++)
        sq += (double) hist[v] * (v / 255.0 - m) * (v / 255.0 - m);
      double sd = count > 0 ? sqrt (sq / count) : 1.0;
      mean[c] = (float) m;
      std[c] = sd > 1e-6 ? (float) sd : 1.0f;
    }
}

void
cs_dataset_batch (const cs_dataset_split *s, const int64_t *indices, int64_t n, const float *mean,
                  const float *std, float *x, int32_t *labels)
{
  int64_t plane = (int64_t) s->height * s->width;
  for (int64_t i = 0; i < n; i++)
    {
      if (labels != NULL)
        labels[i] = s->labels[indices[i]];
      if (x == NULL)
        continue;
      for (int32_t c = 0; c < s->channels; c++)
        {
          const uint8_t *p = s->images + (indices[i] * s->channels + c) * plane;
          float *o = x + (i * s->channels + c) * plane;
          float scale = 1.0f / (255.0f * std[c]), shift = mean[c] / std[c];
          for (int64_t k = 0; k < plane; k++)
            o[k] = (float) p[k] * scale - shift;
        }
    }
}
