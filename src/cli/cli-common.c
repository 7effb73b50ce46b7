/* Shared pieces of convscope-cli: option parsing, the common flags, errors and exit codes. */
#include "cli-common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"
#include "config.h"
#include "data/run_example.h"
#include "io/image.h"
#include "io/model_load.h"
#include "io/model_settings.h"

static const cli_option common_options[] = {
  { "epoch", true, CLI_OPT_EPOCH },
  { "weights", true, CLI_OPT_WEIGHTS },
  { "threads", true, CLI_OPT_THREADS },
  { "mean", true, CLI_OPT_MEAN },
  { "std", true, CLI_OPT_STD },
  { "preset", true, CLI_OPT_PRESET },
  { "json", false, CLI_OPT_JSON },
  { "help", false, CLI_OPT_HELP },
  { NULL, false, 0 },
};

void
cli_i18n_init (void)
{
  const char *dir = getenv ("CONVSCOPE_LOCALEDIR");
  setlocale (LC_MESSAGES, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR);
  /* LC_CTYPE may be "C" (ASCII) while LANGUAGE asks for French: the catalogue is UTF-8. */
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

int
cli_pad_width (const char *s, int width)
{
  int extra = 0;
  for (; *s != '\0'; s++)
    if (((unsigned char) *s & 0xC0) == 0x80)
      extra++;
  return width + extra;
}

int
cli_error (int code, const char *what, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "convscope-cli: error: %s: ", what);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return code;
}

int
cli_fail (const char *what, const cs_error *err)
{
  const char *msg = err->message[0] != '\0' ? err->message : cs_status_name (err->code);
  size_t n = strlen (what);
  /* Keep the contract's single line even if a message carries a newline. */
  char line[CS_ERROR_MESSAGE_SIZE];
  snprintf (line, sizeof line, "%s", msg);
  for (char *c = line; *c != '\0'; c++)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  if (strncmp (line, what, n) == 0 && line[n] == ':')
    fprintf (stderr, "convscope-cli: error: %s\n", line);
  else
    fprintf (stderr, "convscope-cli: error: %s: %s\n", what, line);
  return CLI_EXIT_FAILURE;
}

static const cli_option *
find_option (const cli_option *table, const char *name, size_t len)
{
  for (; table->name != NULL; table++)
    if (strlen (table->name) == len && strncmp (table->name, name, len) == 0)
      return table;
  return NULL;
}

int
cli_parse (int argc, char **argv, const char *command, const cli_option *options, cli_args *args)
{
  memset (args, 0, sizeof *args);
  args->command = command;
  bool only_positional = false;
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      if (only_positional || a[0] != '-' || a[1] == '\0')
        {
          if (args->n_positional == CLI_MAX_POSITIONAL)
            return cli_error (CLI_EXIT_USAGE, a, _("too many arguments (at most %d)"), CLI_MAX_POSITIONAL);
          args->positional[args->n_positional++] = a;
          continue;
        }
      if (strcmp (a, "--") == 0)
        {
          only_positional = true;
          continue;
        }
      if (strcmp (a, "-h") == 0)
        {
          args->values[CLI_OPT_HELP] = "1";
          continue;
        }
      if (a[1] != '-')
        return cli_error (CLI_EXIT_USAGE, a, _("unknown option (options are spelled --name)"));
      const char *name = a + 2;
      const char *eq = strchr (name, '=');
      size_t len = eq ? (size_t) (eq - name) : strlen (name);
      const cli_option *o = find_option (common_options, name, len);
      if (o == NULL && options != NULL)
        o = find_option (options, name, len);
      if (o == NULL)
        return cli_error (CLI_EXIT_USAGE, a, _("unknown option for '%s'"), command);
      if (o->id < 0 || o->id >= CLI_MAX_OPTIONS)
        return cli_error (CLI_EXIT_USAGE, a, _("internal: option id out of range"));
      if (!o->has_value)
        {
          if (eq != NULL)
            return cli_error (CLI_EXIT_USAGE, a, _("this option takes no value"));
          args->values[o->id] = "1";
          continue;
        }
      if (eq != NULL)
        args->values[o->id] = eq + 1;
      else if (i + 1 < argc)
        args->values[o->id] = argv[++i];
      else
        return cli_error (CLI_EXIT_USAGE, a, _("missing value"));
    }
  return CLI_EXIT_OK;
}

int
cli_get_int (const cli_args *args, int id, const char *name, int64_t min, int64_t max, int64_t *value)
{
  const char *s = args->values[id];
  if (s == NULL)
    return CLI_EXIT_OK;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (end == s || *end != '\0' || errno != 0)
    return cli_error (CLI_EXIT_USAGE, name, _("'%s' is not an integer"), s);
  if (v < min || v > max)
    return cli_error (CLI_EXIT_USAGE, name, _("%lld is out of range [%lld, %lld]"), v, (long long) min,
                      (long long) max);
  *value = v;
  return CLI_EXIT_OK;
}

int
cli_get_double (const cli_args *args, int id, const char *name, double min, double max, double *value)
{
  const char *s = args->values[id];
  if (s == NULL)
    return CLI_EXIT_OK;
  char *end;
  errno = 0;
  double v = strtod (s, &end);
  if (end == s || *end != '\0' || errno != 0 || !isfinite (v))
    return cli_error (CLI_EXIT_USAGE, name, _("'%s' is not a number"), s);
  if (v < min || v > max)
    return cli_error (CLI_EXIT_USAGE, name, _("%g is out of range [%g, %g]"), v, min, max);
  *value = v;
  return CLI_EXIT_OK;
}

int
cli_get_choice (const cli_args *args, int id, const char *name, const char *const *choices,
                const char **value)
{
  const char *s = args->values[id];
  if (s == NULL)
    return CLI_EXIT_OK;
  for (int i = 0; choices[i] != NULL; i++)
    if (strcmp (s, choices[i]) == 0)
      {
        *value = choices[i];
        return CLI_EXIT_OK;
      }
  char list[512] = "";
  for (int i = 0; choices[i] != NULL; i++)
    {
      strncat (list, i ? ", " : "", sizeof list - strlen (list) - 1);
      strncat (list, choices[i], sizeof list - strlen (list) - 1);
    }
  return cli_error (CLI_EXIT_USAGE, name, _("unknown value '%s' (expected one of: %s)"), s, list);
}

int
cli_apply_threads (const cli_args *args)
{
  int64_t n = 0;
  int code = cli_get_int (args, CLI_OPT_THREADS, "--threads", 1, 1024, &n);
  if (code != CLI_EXIT_OK)
    return code;
  cs_threads_set ((int32_t) n);
  return CLI_EXIT_OK;
}

cs_model *
cli_load_model (const cli_args *args, const char *path, int *code)
{
  cs_load_options opts = CS_LOAD_OPTIONS_DEFAULT;
  int64_t epoch = -1;
  *code = cli_get_int (args, CLI_OPT_EPOCH, "--epoch", 0, INT32_MAX, &epoch);
  if (*code != CLI_EXIT_OK)
    return NULL;
  opts.epoch = (int32_t) epoch;
  opts.weights = args->values[CLI_OPT_WEIGHTS];
  cs_error err = { 0 };
  const char *preset = NULL;
  static const char *const presets[] = { "imagenet", "fashion-mnist", "none", NULL };
  *code = cli_get_choice (args, CLI_OPT_PRESET, "--preset", presets, &preset);
  if (*code != CLI_EXIT_OK)
    return NULL;
  cs_model *m = cs_model_load (path, &opts, &err);
  if (m == NULL)
    {
      *code = cli_fail (path, &err);
      return NULL;
    }
  /* --preset is the whole transform (resize, crop, normalisation) and its data set's class
   * names; --mean/--std (cli_get_norm) refine the normalisation. */
  cs_model_settings s;
  if (preset != NULL && (!cs_model_settings_preset (preset, m->channels, m->height, &s)
                         || cs_model_settings_apply (m, &s, &err) != CS_OK))
    {
      *code = cli_fail (path, &err);
      cs_model_free (m);
      return NULL;
    }
  return m;
}

/* Parses "a,b,c" into up to 4 floats; returns the count or -1. */
static int
parse_floats (const char *s, float *out)
{
  int n = 0;
  while (*s != '\0')
    {
      if (n == 4)
        return -1;
      char *end;
      errno = 0;
      double v = strtod (s, &end);
      if (end == s || errno != 0 || !isfinite (v))
        return -1;
      out[n++] = (float) v;
      s = end;
      if (*s == ',')
        s++;
      else if (*s != '\0')
        return -1;
    }
  return n;
}

static int
norm_values (const char *s, const char *name, int32_t channels, float *out)
{
  float v[4];
  int n = parse_floats (s, v);
  if (n <= 0)
    return cli_error (CLI_EXIT_USAGE, name, _("'%s' is not a comma-separated list of numbers"), s);
  if (n != 1 && n != channels)
    return cli_error (CLI_EXIT_USAGE, name, _("%d values given, the model has %d input channels"), n,
                      channels);
  for (int32_t c = 0; c < channels && c < 4; c++)
    out[c] = v[n == 1 ? 0 : c];
  return CLI_EXIT_OK;
}

int
cli_get_norm (const cli_args *args, const cs_model *m, cli_norm *norm)
{
  memset (norm, 0, sizeof *norm);
  int32_t channels = m->channels > 0 && m->channels <= 4 ? m->channels : 1;
  for (int c = 0; c < 4; c++)
    {
      norm->mean[c] = m->mean[c];
      norm->std[c] = m->std[c] != 0 ? m->std[c] : 1.0f;
    }
  /* --preset's values are already the model's (cli_load_model applied them). */
  norm->set = args->values[CLI_OPT_PRESET] != NULL;
  int code;
  if (args->values[CLI_OPT_MEAN] != NULL)
    {
      code = norm_values (args->values[CLI_OPT_MEAN], "--mean", channels, norm->mean);
      if (code != CLI_EXIT_OK)
        return code;
      norm->set = true;
    }
  if (args->values[CLI_OPT_STD] != NULL)
    {
      code = norm_values (args->values[CLI_OPT_STD], "--std", channels, norm->std);
      if (code != CLI_EXIT_OK)
        return code;
      for (int32_t c = 0; c < channels; c++)
        if (!(norm->std[c] > 0))
          return cli_error (CLI_EXIT_USAGE, "--std", _("values must be positive"));
      norm->set = true;
    }
  return CLI_EXIT_OK;
}

/* "test:N" / "train:N": example N of the run's recorded data set (MODEL must be a run). */
static int
load_run_example (const char *arg, bool train, int64_t index, const cs_model *m,
                  const cli_norm *norm, cs_tensor *out)
{
  cs_error err = { 0 };
  cs_image img;
  int32_t label;
  bool set = norm != NULL && norm->set;
  size_t n = m->path != NULL ? strlen (m->path) : 0;
  if (n < 9 || strcmp (m->path + n - 9, "/run.json") != 0)
    return cli_error (CLI_EXIT_USAGE, arg, _("test:N and train:N need a run directory as MODEL"));
  if (cs_run_example_load (m->path, train, index, &img, &label, &err) != CS_OK)
    return cli_fail (arg, &err);
  cs_status st = cs_image_for_model (&img, m, set ? norm->mean : NULL, set ? norm->std : NULL, out, &err);
  cs_image_free (&img);
  if (st != CS_OK)
    return cli_fail (arg, &err);
  return CLI_EXIT_OK;
}

int
cli_load_input (const char *path, const cs_model *m, const cli_norm *norm, cs_tensor *out)
{
  cs_error err = { 0 };
  bool set = norm != NULL && norm->set, train;
  int64_t index;
  char note[256];
  if (cs_run_example_parse (path, &train, &index) && access (path, F_OK) != 0)
    return load_run_example (path, train, index, m, norm, out);
  if (cs_input_load_noted (path, m, set ? norm->mean : NULL, set ? norm->std : NULL, out, note,
                           sizeof note, &err) != CS_OK)
    return cli_fail (path, &err);
  /* Say when the model sees something else than the file (grey, resampled, cropped). */
  if (note[0] != '\0')
    fprintf (stderr, "convscope-cli: %s: %s: %s\n", _("note"), path, note);
  return CLI_EXIT_OK;
}

const char *
cli_class_label (const cs_model *m, int32_t cls, char *buf)
{
  if (m->classes != NULL && cls >= 0 && cls < m->n_classes && m->classes[cls] != NULL)
    return m->classes[cls];
  snprintf (buf, 16, "%d", (int) cls);
  return buf;
}

int
cli_print_json (struct cJSON *doc)
{
  char *text = doc ? cJSON_Print (doc) : NULL;
  cJSON_Delete (doc);
  if (text == NULL)
    return cli_error (CLI_EXIT_FAILURE, "--json", _("out of memory"));
  fputs (text, stdout);
  fputc ('\n', stdout);
  cJSON_free (text);
  return CLI_EXIT_OK;
}

int
cli_check_output (const char *input, const cs_tensor *y)
{
  int64_t n = y != NULL ? cs_tensor_numel (y) : 0, bad = y != NULL ? cs_count_nonfinite (y->data, n) : 0;
  if (bad == 0)
    return CLI_EXIT_OK;
  return cli_error (CLI_EXIT_FAILURE, input, _("%lld of the model's %lld outputs are NaN or infinite "
                                               "(its weights or the input overflow float32)"),
                    (long long) bad, (long long) n);
}
