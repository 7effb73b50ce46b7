/* A study: a grid of training runs (SPEC.json) expanded into points, each one run directory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "training/train_run.h"

/* The study file `convscope-cli study run` writes into the study directory. */
#define CS_STUDY_FILE "study.json"
#define CS_STUDY_MAX_POINTS 100000

typedef struct {
  int32_t index;             /* position in the grid; the run directory is "run-NNNN" */
  char *dir;                 /* the run directory under the study directory */
  cs_train_options train;    /* arch, dataset and out point into the spec */
} cs_study_point;

typedef struct {
  char *path;                /* the spec file */
  char *text;                /* its content, as read */
  char *dataset;
  char **archs;              /* resolved against the spec's directory */
  int32_t n_archs;
  int32_t epochs;
  int32_t n_points;
  cs_study_point *points;
} cs_study_spec;

/* Parses SPEC (grid keys: "seeds", "arch" (model.json paths, relative to the spec),
 * "train_subset", "optimizer", "lr", "label_noise", "weight_decay", "lr_schedule", "augment" —
 * each a value or a list; fixed: "dataset", "val_subset", "test_subset", "epochs", "batch",
 * "momentum"). Points are the product of the lists in that key order, the last varying
 * fastest; run directories are out_dir/run-NNNN. Errors name the file and the key. */
cs_study_spec *cs_study_spec_load (const char *path, const char *out_dir, cs_error *err);
cs_study_spec *cs_study_spec_parse (const char *text, const char *path, const char *out_dir,
                                    cs_error *err);
void cs_study_spec_free (cs_study_spec *s);

/* "I/N" with 0 <= I < N. */
bool cs_study_shard_parse (const char *text, int32_t *index, int32_t *count);
