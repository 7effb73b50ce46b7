/* cs_model: a graph plus one set of weights and the input conventions. Immutable after load
 * and safe to share across threads; another epoch's checkpoint is another cs_model over the
 * same (reference-counted) graph. */
#pragma once

#include "graph/graph.h"

typedef struct cs_model {
  cs_graph *graph;           /* shared, reference-counted */
  cs_tensor *weights;        /* graph->n_params tensors, in param index order */
  char *path;                /* where it was loaded from, for messages */
  int32_t channels;          /* input C, H, W (from the INPUT node) */
  int32_t height, width;
  float mean[4], std[4];     /* input normalisation (mean 0 / std 1 when unknown) */
  bool has_normalization;    /* mean/std came from the file (run.json) rather than defaults */
  int32_t resize;            /* images: shorter side resized to this, then centre-cropped to
                              * height x width (torchvision's Resize+CenterCrop); 0 = resized
                              * straight to height x width */
  int32_t n_classes;         /* output width */
  char **classes;            /* n_classes labels, or NULL */
} cs_model;

/* A model over g (takes a reference) with zero-filled weights of the graph's shapes. */
cs_model *cs_model_new (cs_graph *g, cs_error *err);
void cs_model_free (cs_model *m);
/* A copy sharing the graph, with its own copy of the weights. */
cs_model *cs_model_clone (const cs_model *m, cs_error *err);

/* PyTorch's default initialisation (kaiming-uniform a=sqrt(5) for conv/linear weights, uniform
 * 1/sqrt(fan_in) for biases, BN weight 1 / bias 0 / mean 0 / var 1), from a seed. */
void cs_model_init_weights (cs_model *m, uint64_t seed);

cs_status cs_model_set_classes (cs_model *m, int32_t n, const char *const *labels, cs_error *err);
int32_t cs_model_param_index (const cs_model *m, const char *name); /* -1 when absent */
int64_t cs_model_parameter_count (const cs_model *m);
/* NaN or infinite weights or constants: an error naming the first such tensor and how many of
 * its values are not finite (and how many other tensors have some). */
cs_status cs_model_check_finite (const cs_model *m, cs_error *err);
/* The number of non-finite values among n floats. */
int64_t cs_count_nonfinite (const float *v, int64_t n);
