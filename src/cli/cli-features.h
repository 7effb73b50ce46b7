/* Shared by the feature commands (features, top-examples): layer and unit lookup, sheet headers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "cli-common.h"
#include "graph/model.h"

/* The node named `name` that has units (a batched 2-D or 4-D node). Reports the error itself
 * and returns -1. */
int32_t cli_find_unit_layer (const cs_model *m, const char *name, int32_t *n_units);

/* "all" or "a,b,c" (with ranges "a-b") into a malloc'ed list of units < n_units. Reports a
 * usage error itself and returns NULL. */
int32_t *cli_parse_units (const char *spec, int32_t n_units, int32_t *count);

/* The model as a sheet's header names it: the file or run directory's name, then for a run
 * the epoch whose checkpoint was loaded (--epoch, or the last), then --weights when given. */
void cli_model_title (const cli_args *args, const char *path, char *buf, size_t size);

/* A progress callback that prints "what: NN%" on stderr when it is a terminal. */
void cli_progress_stderr (void *user_data, double fraction);

/* `--unit LAYER:CHANNEL` (explain in unit mode) into a node id and a channel, checked against
 * m. Reports a usage error itself and returns CLI_EXIT_USAGE; CLI_EXIT_OK otherwise. */
int cli_parse_unit_spec (const cs_model *m, const char *spec, int32_t *layer, int32_t *channel);
