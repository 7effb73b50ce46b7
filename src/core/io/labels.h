/* Class names: ImageNet-1k's (shipped), and labels.txt / labels.json files beside a model. */
#pragma once

#include <stdint.h>

#include "graph/model.h"

#define CS_IMAGENET_N_CLASSES 1000
extern const char *const cs_imagenet_classes[CS_IMAGENET_N_CLASSES];

/* Reads a labels file: ".json" holds a list of names, {"classes": [...]} or {"0": name, ...};
 * anything else is text, one name per line (a final empty line ignored, CR LF accepted).
 * *labels (n_labels strings) is freed with cs_labels_free. Errors name the file. */
cs_status cs_labels_load (const char *path, int32_t *n_labels, char ***labels, cs_error *err);
void cs_labels_free (int32_t n, char **labels);

/* The labels file beside model_path (labels.json, else labels.txt, in its directory), or NULL
 * when there is none. Returns a malloc'ed path. */
char *cs_labels_find_beside (const char *model_path);

/* Gives m the names of the labels file beside model_path, when one exists. A file whose count
 * differs from m's outputs is an error naming both counts. */
cs_status cs_labels_apply_beside (cs_model *m, const char *model_path, cs_error *err);
