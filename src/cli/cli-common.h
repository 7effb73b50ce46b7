/* Shared pieces of convscope-cli: option parsing, the common flags, errors and exit codes. */
#pragma once

#include <libintl.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "graph/model.h"

/* Messages for people go through gettext (domain GETTEXT_PACKAGE, set up in main.c). What
 * scripts read stays English and byte-identical whatever the locale (docs/cli/README.md): JSON and CSV, the
 * "convscope-cli: error:" prefix, method ids, option names, key=value lines such as bench's. */
#define _(s) gettext (s)
#define N_(s) (s)

/* Sets LC_MESSAGES from the environment (only it: LC_NUMERIC would change printf's and
 * strtod's decimal separator, LC_CTYPE the core's parsers) and binds the text domain; CONVSCOPE_LOCALEDIR overrides LOCALEDIR
 * for a build tree (meson's po/ build dir has the <lang>/LC_MESSAGES/ layout). */
void cli_i18n_init (void);

/* The printf field width that pads UTF-8 text s to `width` columns: %-*s counts bytes, and a
 * translated header such as "nœud" has more bytes than characters. */
int cli_pad_width (const char *s, int width);

/* Exit codes (docs/cli/README.md). */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1, /* a bad input file or a failed computation */
  CLI_EXIT_USAGE = 2,   /* a bad command line */
};

/* One option of a command: "--name" (value taken from the next argument or "--name=value"
 * when has_value), stored in values[id] (flags store "1"). */
typedef struct {
  const char *name;
  bool has_value;
  int id;
} cli_option;

/* The common flags, available to every command. Ids of command-specific options start at
 * CLI_OPT_FIRST_COMMAND. */
enum {
  CLI_OPT_EPOCH,
  CLI_OPT_WEIGHTS,
  CLI_OPT_THREADS,
  CLI_OPT_MEAN,
  CLI_OPT_STD,
  CLI_OPT_PRESET,
  CLI_OPT_JSON,
  CLI_OPT_HELP,
  CLI_OPT_FIRST_COMMAND,
};

#define CLI_MAX_OPTIONS 48
#define CLI_MAX_POSITIONAL 256

typedef struct {
  const char *command;
  const char *values[CLI_MAX_OPTIONS];     /* NULL when the option was not given */
  const char *positional[CLI_MAX_POSITIONAL];
  int n_positional;
} cli_args;

/* Prints "convscope-cli: error: <what>: <reason>" on stderr and returns code. */
int cli_error (int code, const char *what, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
/* Reports a core error (whose message names the file and the reason); when the message does
 * not start with `what`, it is prefixed with it. Returns CLI_EXIT_FAILURE. */
int cli_fail (const char *what, const cs_error *err);

/* Parses argv (after the command name) against the common options plus `options` (terminated
 * by a NULL name). Returns CLI_EXIT_OK or reports a usage error and returns CLI_EXIT_USAGE. */
int cli_parse (int argc, char **argv, const char *command, const cli_option *options, cli_args *args);

/* Typed readers of option values: each returns CLI_EXIT_OK, or reports a usage error naming
 * the option and returns CLI_EXIT_USAGE. The value is left untouched when the option is absent. */
int cli_get_int (const cli_args *args, int id, const char *name, int64_t min, int64_t max, int64_t *value);
int cli_get_double (const cli_args *args, int id, const char *name, double min, double max, double *value);
/* One of the strings in choices (NULL-terminated). */
int cli_get_choice (const cli_args *args, int id, const char *name, const char *const *choices,
                    const char **value);

/* Applies --threads (all cores by default). Returns a usage error for a bad value. */
int cli_apply_threads (const cli_args *args);

/* Loads MODEL with --epoch and --weights. Returns NULL after reporting the error (*code set). */
cs_model *cli_load_model (const cli_args *args, const char *path, int *code);

/* The normalisation from --mean/--std/--preset for model m, or none (use the model's). */
typedef struct {
  bool set;
  float mean[4], std[4];
} cli_norm;
int cli_get_norm (const cli_args *args, const cs_model *m, cli_norm *norm);

/* Loads an INPUT (image or .npy) for m as a [1, C, H, W] tensor. Reports the error itself. */
int cli_load_input (const char *path, const cs_model *m, const cli_norm *norm, cs_tensor *out);

/* After a forward pass: reports NaN/Inf outputs of input (CLI_EXIT_FAILURE), else CLI_EXIT_OK. */
int cli_check_output (const char *input, const cs_tensor *y);
/* The class label, or its index as text when the model has no labels (buf holds 16 bytes). */
const char *cli_class_label (const cs_model *m, int32_t cls, char *buf);

/* Prints a cJSON document (consumed) on stdout with a trailing newline. */
struct cJSON;
int cli_print_json (struct cJSON *doc);
