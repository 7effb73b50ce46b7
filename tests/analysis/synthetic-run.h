/* A small synthetic run directory for the analysis tests (model.json and checkpoints written
 * with the io API, curves that overfit at epoch 3), and a runner for the run-info program. */
#pragma once

#include <stdbool.h>

#include "graph/model.h"

#define SYNTH_EPOCHS 8

/* Writes the run into a new directory under /tmp (its path in dir); saved, when not NULL,
 * receives copies of conv1.weight and fc.weight at every epoch (free them). Returns the last
 * epoch's model, or NULL after a failed CHECK. classes_json: run.json's "classes" value. */
cs_model *synth_run_build (char dir[256], float *saved[SYNTH_EPOCHS][2], const char *classes_json);
/* Rewrites run.json with another "classes" value. */
void synth_run_write_run_json (const char *dir, const char *classes_json);
void synth_write_text (const char *dir, const char *name, const char *text);
/* A file's text, NUL-terminated ("" when unreadable). */
char *synth_slurp (const char *path);
/* Runs `prog [subcommand] args` with stdout and stderr captured; returns the exit code. */
int synth_run_cli (const char *dir, const char *prog, const char *subcommand, const char *args,
                   char **out, char **errtext);
/* stderr is exactly one "convscope-cli: error: ..." line. */
bool synth_one_error_line (const char *e);
void synth_run_remove (const char *dir);
