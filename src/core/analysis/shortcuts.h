/* Shortcuts ("Clever Hans"): what the explanations of one class's correctly classified images
 * share. Spectral relevance analysis (SpRAy, Lapuschkin et al. 2019, "Unmasking Clever Hans
 * predictors and assessing what machines really learn": spectral clustering of the maps, the
 * number of clusters by the eigengap) and the concentration of attribution mass in one small
 * fixed region across most images, flagged with that region's box. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "attribution/attribution.h"
#include "base/status.h"
#include "data/dataset.h"
#include "graph/model.h"

typedef struct {
  int32_t size;              /* member images */
  int64_t *members;          /* their indices in the data set's test split */
  float *mean_map;           /* [height * width], the members' mean normalised map */
} cs_shortcut_cluster;

typedef struct {
  int32_t cls;
  int32_t n_images;          /* correctly classified images explained */
  int64_t *images;           /* their test-split indices */
  float *maps;               /* [n_images][height * width], each map scaled to sum 1 */
  int32_t n_clusters;        /* by the eigengap */
  double eigengap;           /* the gap that chose n_clusters */
  cs_shortcut_cluster *clusters; /* largest first */
  /* The box (input pixels, inclusive) holding the most mass on average among small boxes, the
   * mean share of each image's mass inside it, and the share of images with at least half of
   * their mass inside it. */
  int32_t box[4];            /* x0, y0, x1, y1 */
  double box_mass, box_images;
  bool flagged;              /* most images concentrate their mass in that same small box */
} cs_shortcut_class;

typedef struct {
  int32_t height, width;     /* of the maps: the model's input */
  int32_t n_classes;
  cs_shortcut_class *classes;
} cs_shortcut_report;

typedef struct {
  cs_method method;          /* the explaining method */
  int32_t layer;             /* its CAM layer (node id; -1 = the last spatial layer) */
  int32_t per_class;         /* images explained per class (the first correctly classified ones) */
  const float *mean, *std;   /* input normalisation */
} cs_shortcut_options;

/* Explains up to per_class correctly classified images of each class among the given test-split
 * examples (indices into ds->test) with the model, and analyses the maps per class. */
cs_shortcut_report *cs_shortcuts_analyse (const cs_model *m, const cs_dataset *ds, const int64_t *examples,
                                          int64_t n_examples, const cs_shortcut_options *opts,
                                          const cs_progress *progress, cs_error *err);
void cs_shortcut_report_free (cs_shortcut_report *r);

/* SpRAy on n maps of dim values each (scaled to sum 1): spectral clustering of their k-nearest-
 * neighbour affinity graph, the number of clusters chosen by the largest eigengap of the
 * normalised Laplacian among the first max_k eigenvalues. assign[i] receives each map's cluster
 * (0 = the largest); returns the number of clusters (1 when n < 3) or -1 on failure. */
int32_t cs_spray_cluster (const float *maps, int32_t n, int32_t dim, int32_t max_k, int32_t *assign,
                          double *eigengap, cs_error *err);

/* The small box where the maps' mass concentrates (see cs_shortcut_class), over n maps of
 * height x width, each summing to 1. */
void cs_shortcut_find_box (const float *maps, int32_t n, int32_t height, int32_t width, int32_t box[4],
                           double *box_mass, double *box_images);
