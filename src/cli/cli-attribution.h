/* What explain, compare, evaluate and bench share about attribution methods: the method
 * knobs of docs/cli/explain.md as options, --methods lists, --layer names, the exec's batch, progress on
 * stderr, and the methods' conventions for --help. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "attribution/attribution.h"
#include "cli-common.h"

/* The option ids a command gave to the method knobs; -1 when it does not take one. */
typedef struct {
  int target, layer, samples, noise, steps, baseline, seed, window, stride, batch;
} cli_attr_ids;

/* The method knobs as every command that takes them spells them: the same ids (right after the
 * common flags), the same option rows. A command numbers its own options from
 * CLI_OPT_FIRST_ATTR_COMMAND and puts CLI_ATTR_OPTION_ROWS in its option table. */
enum {
  CLI_OPT_TARGET = CLI_OPT_FIRST_COMMAND,
  CLI_OPT_LAYER,
  CLI_OPT_SAMPLES,
  CLI_OPT_NOISE,
  CLI_OPT_STEPS,
  CLI_OPT_BASELINE,
  CLI_OPT_SEED,
  CLI_OPT_WINDOW,
  CLI_OPT_STRIDE,
  CLI_OPT_BATCH,
  CLI_OPT_FIRST_ATTR_COMMAND,
};

#define CLI_ATTR_OPTION_ROWS \
  { "target", true, CLI_OPT_TARGET }, \
  { "layer", true, CLI_OPT_LAYER }, \
  { "samples", true, CLI_OPT_SAMPLES }, \
  { "noise", true, CLI_OPT_NOISE }, \
  { "steps", true, CLI_OPT_STEPS }, \
  { "baseline", true, CLI_OPT_BASELINE }, \
  { "seed", true, CLI_OPT_SEED }, \
  { "window", true, CLI_OPT_WINDOW }, \
  { "stride", true, CLI_OPT_STRIDE }, \
  { "batch", true, CLI_OPT_BATCH }

/* The ids of CLI_ATTR_OPTION_ROWS, every knob taken. */
extern const cli_attr_ids cli_attr_all_ids;

/* Fills p from the knobs (method left as is; target auto = -1; layer resolved on m).
 * Returns CLI_EXIT_OK or reports the bad option (exit 2). */
int cli_attr_params (const cli_args *args, const cli_attr_ids *ids, const cs_model *m,
                     cs_attribution_params *p);

/* --layer NAME: the node id of a spatial layer (batched, 4-D, H and W > 1). Reports an
 * unknown or non-spatial layer by name (exit 2). */
int cli_resolve_layer (const cs_model *m, const char *name, int32_t *id);

/* "all" or "m1,m2,...": selected[m] for every cs_method; a bad id is reported (exit 2). */
int cli_parse_methods (const char *list, const char *option, bool selected[CS_METHOD_COUNT]);

/* The exec batch: --batch when given, else the largest cs_attribution_batch_hint over the
 * selected methods. */
int cli_attr_batch (const cli_args *args, const cli_attr_ids *ids, const cs_model *m,
                    const bool selected[CS_METHOD_COUNT], int32_t *batch);

/* Forward of x [1,C,H,W] on e: the predicted class and its softmax probability. */
cs_status cli_predict (cs_exec *e, const cs_model *m, const cs_tensor *x, int32_t *predicted,
                       float *probability, cs_error *err);

/* Progress on stderr ("label  42%") when it is a terminal; silent otherwise. */
typedef struct {
  cs_progress progress;
  const char *label;
  int last;          /* last percentage shown */
  bool active;
} cli_progress;
void cli_progress_init (cli_progress *p, const char *label);
void cli_progress_done (cli_progress *p);

/* The method list with each method's conventions (for --help). */
void cli_print_methods (FILE *fp);
