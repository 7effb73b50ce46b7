/* Writes a run directory (format convscope-run/1, docs/formats/run.md): model.json, one
 * checkpoint per epoch, the optimizer state of the last epoch, and run.json rewritten
 * atomically after every epoch, so that an interrupted run is always a valid run. */
#pragma once

#include <cjson/cJSON.h>

#include "graph/model.h"
#include "training/optimizer.h"

#define CS_RUN_FORMAT "convscope-run/1"

typedef struct {
  const char *name;          /* the run's name (NULL: the directory's base name) */
  int32_t channels, height, width;
  const float *mean, *std;   /* channels values each */
  int32_t n_classes;
  const char *const *classes;
  cJSON *dataset, *train;    /* taken over by the writer */
} cs_run_header;

/* One epoch's line of run.json; NAN is written as null (epoch 0 has no training metrics). The
 * optional metrics (a held-back test split, the trainer's EB criterion) are written only when
 * they are not NAN. */
typedef struct {
  int32_t epoch;
  double train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, seconds;
  double test_loss, test_accuracy, eb_criterion;
} cs_run_metrics;

typedef struct cs_run_writer cs_run_writer;

/* Starts a run in dir (created when missing; a dir that already holds run.json is an error):
 * writes model.json and creates checkpoints/. run.json appears with the first epoch. */
cs_run_writer *cs_run_writer_create (const char *dir, const cs_graph *g, cs_run_header *header,
                                     cs_error *err);
/* Reopens the run in dir to continue it (--resume). */
cs_run_writer *cs_run_writer_resume (const char *dir, cs_error *err);
void cs_run_writer_free (cs_run_writer *w);

/* The run.json document (read its "dataset", "train" and "epochs" when resuming). */
const cJSON *cs_run_writer_json (const cs_run_writer *w);
const char *cs_run_writer_dir (const cs_run_writer *w);
/* The last epoch written, -1 when none. */
int32_t cs_run_writer_last_epoch (const cs_run_writer *w);
/* Resolved path of model.json and of the last epoch's checkpoint (NULL when none). */
const char *cs_run_writer_model_path (const cs_run_writer *w);
char *cs_run_writer_checkpoint_path (const cs_run_writer *w, int32_t epoch); /* malloc'ed */

/* Records the run's total epochs in "train" (a resumed run may be extended); written with the
 * next epoch. */
void cs_run_writer_set_epochs (cs_run_writer *w, int32_t epochs);

/* Writes checkpoints/epoch-NNNN.safetensors from m, then opt's state (when opt is non-NULL),
 * then run.json with the new epoch; finally removes the previous epoch's optimizer state. */
cs_status cs_run_writer_add_epoch (cs_run_writer *w, const cs_model *m, cs_optimizer *opt,
                                   const cs_run_metrics *metrics, cs_error *err);

/* Restores into opt the optimizer state saved with the last epoch (its kind must match). */
cs_status cs_run_writer_load_optimizer (const cs_run_writer *w, cs_optimizer *opt, cs_error *err);
