/* Image classification data sets in the MNIST layout (Fashion-MNIST, MNIST): a dataset SPEC
 * resolved to files, both splits in memory as bytes, seeded subsets and normalisation. */
#pragma once

#include <stdint.h>

#include "base/status.h"

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define CS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
/* Fashion-MNIST's class names, in label order. */
extern const char *const cs_fashion_mnist_classes[10];

typedef struct {
  int64_t n;
  int32_t channels, height, width;
  uint8_t *images;           /* n * channels * height * width pixels, 0..255 */
  uint8_t *labels;           /* n labels, each < the data set's n_classes */
} cs_dataset_split;

typedef struct {
  char *name;                /* "fashion-mnist" or "mnist" */
  char *dir;                 /* the directory the files came from */
  int32_t n_classes;
  const char *const *classes;
  cs_dataset_split train, test;
} cs_dataset;

/* spec: "fashion-mnist" (Debian's copy), "fashion-mnist:DIR" or "mnist:DIR". DIR holds
 * train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
 * t10k-labels-idx1-ubyte, each optionally gzipped (".gz"). */
cs_status cs_dataset_open (const char *spec, cs_dataset *ds, cs_error *err);
void cs_dataset_free (cs_dataset *ds);

/* count indices out of [0, total) drawn without replacement from seed, in ascending order;
 * count <= 0 or >= total selects everything. *indices is malloc'ed. */
cs_status cs_dataset_subset (int64_t total, int64_t count, uint64_t seed, int64_t **indices,
                             int64_t *n_out, cs_error *err);

/* Per-channel mean and (population) standard deviation of pixels / 255 over the selected
 * images, as torchvision's Normalize expects them. */
void cs_dataset_stats (const cs_dataset_split *s, const int64_t *indices, int64_t n, float *mean,
                       float *std);

/* Writes samples indices[0..n) as float [n, C, H, W] ((pixel / 255 - mean) / std) into x and
 * their labels into labels (either may be NULL). */
void cs_dataset_batch (const cs_dataset_split *s, const int64_t *indices, int64_t n, const float *mean,
                       const float *std, float *x, int32_t *labels);
