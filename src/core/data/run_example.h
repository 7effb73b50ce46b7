/* "test:N" / "train:N": example N of the data set a run records in run.json, as an image. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "data/dataset.h"
#include "io/image.h"
#include "io/run.h"

/* Whether arg reads "test:N" or "train:N" (N decimal); sets *train and *index. */
bool cs_run_example_parse (const char *arg, bool *train, int64_t *index);

/* The dataset SPEC of run.json's "dataset" ({"spec"}, or {"name", "dir"}, or name
 * "fashion-mnist"), a relative DIR resolved against the run; malloc'ed, NULL when none. */
char *cs_run_dataset_spec (const cs_run *run);

/* Example `index` of the run's train or test split as an 8-bit image, and its label.
 * run_path: the run directory or run.json. Errors name the run and the reason. */
cs_status cs_run_example_load (const char *run_path, bool train, int64_t index, cs_image *img,
                               int32_t *label, cs_error *err);
/* Examples first .. first+n-1 (fewer at the end of the split: *n_loaded says how many) in one
 * reading of the data set. On error, images already loaded are in imgs (free them). */
cs_status cs_run_examples_load (const char *run_path, bool train, int64_t first, int32_t n,
                                cs_image *imgs, int32_t *labels, int32_t *n_loaded, cs_error *err);
