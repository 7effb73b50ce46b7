/* What the example history's computation and its cache share. */
#pragma once

#include "analysis/history.h"
#include "graph/model.h"

/* Allocates x's arrays (and its index when x->index is NULL) for n examples over n_epochs. */
cs_status cs_history_examples_alloc (cs_history_examples *x, int64_t n, int32_t n_epochs, cs_error *err);

/* The history's inference-only model (history_infer.c): the run's graph with every batch norm
 * that follows a convolution folded into it. Built once per run; each checkpoint's weights are
 * then folded into a model over its graph. */
typedef struct cs_history_infer cs_history_infer;
cs_history_infer *cs_history_infer_new (const cs_model *m, cs_error *err);
void cs_history_infer_free (cs_history_infer *inf);
const cs_graph *cs_history_infer_graph (const cs_history_infer *inf);
/* A model over the folded graph holding src's weights, folded (src: a model over the graph
 * cs_history_infer_new was given). */
cs_model *cs_history_infer_model (const cs_history_infer *inf, const cs_model *src, cs_error *err);
/* Overwrites dst (a model from cs_history_infer_model) with src's weights, folded. */
void cs_history_infer_update (const cs_history_infer *inf, const cs_model *src, cs_model *dst);

/* Runs every checkpoint of the run over h's examples (whose index and label are filled) and
 * fills their columns (history_compute.c). first: the run's first epoch, loaded. */
cs_status cs_history_compute_epochs (const cs_run *run, const cs_model *first, const cs_dataset *ds,
                                     cs_history *h, const cs_progress *progress, cs_error *err);
