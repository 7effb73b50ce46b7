/* Loading a MODEL argument: an .onnx file, a native model.json, or a run directory. */
#pragma once

#include "graph/model.h"
#include "io/run.h"

typedef struct {
  int32_t epoch;             /* run directories: which checkpoint; -1 = the last */
  const char *weights;       /* a .safetensors file laid over the graph by name, or NULL */
  uint64_t init_seed;        /* model.json without weights: seed of the initialisation */
} cs_load_options;

#define CS_LOAD_OPTIONS_DEFAULT ((cs_load_options) { .epoch = -1, .weights = NULL, .init_seed = 0 })

/* Dispatches on the path: a directory (or run.json) is a run, ".onnx" is ONNX, ".json" is a
 * native model. Errors name the file and the reason. opts may be NULL. */
cs_model *cs_model_load (const char *path, const cs_load_options *opts, cs_error *err);

/* Whether run.json fits the model it names: the recorded input size and the number of class
 * labels. Everything that reads a run with its model (predict, run-info, the app) checks this
 * one rule. Errors name run.json. */
cs_status cs_run_check_model (const cs_run *run, const cs_model *m, cs_error *err);
