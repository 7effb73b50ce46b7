/* Run directories (format convscope-run/1): run.json read into plain data, with the model and
 * checkpoint paths resolved against the run directory. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct {
  int32_t epoch;
  char *checkpoint;          /* resolved path of its .safetensors */
  /* metrics; NAN when absent or null */
  double train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, seconds;
} cs_run_epoch;

typedef struct {
  char *dir;                 /* the run directory ("." when run.json has no directory part) */
  char *path;                /* its run.json */
  char *name, *created;      /* NULL when absent */
  char *model;               /* resolved path of model.json or model.onnx */
  int32_t channels, height, width;   /* the "input" object; 0 when absent */
  int32_t n_mean;            /* entries of mean and std (= channels), 0 when absent */
  float mean[4], std[4];
  int32_t n_classes;
  char **classes;            /* n_classes labels, or NULL */
  char *dataset_json;        /* the "dataset" and "train" objects as compact JSON, or NULL */
  char *train_json;
  char *epochs_json;         /* the "epochs" list as compact JSON, every field as written */
  int32_t n_epochs;
  cs_run_epoch *epochs;      /* in file order; epoch numbers strictly increase */
} cs_run;

/* path: a run directory or its run.json. */
cs_run *cs_run_load (const char *path, cs_error *err);
/* Parses run.json text; name is used in messages, dir resolves relative paths. */
cs_run *cs_run_parse (const char *text, size_t size, const char *name, const char *dir,
                      cs_error *err);
void cs_run_free (cs_run *run);
/* Index into run->epochs of epoch number `epoch` (-1 = the last one), or -1 when absent. */
int32_t cs_run_epoch_index (const cs_run *run, int32_t epoch);
