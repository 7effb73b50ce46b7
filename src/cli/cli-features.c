/* Helpers of the feature commands: layer and unit lookup, sheet headers, terminal progress. */
#include "cli-features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-common.h"
#include "features/actmax.h"
#include "io/run.h"

int32_t
cli_find_unit_layer (const cs_model *m, const char *name, int32_t *n_units)
{
  int32_t id = cs_graph_find (m->graph, name);
  if (id < 0)
    {
      cli_error (CLI_EXIT_USAGE, "--layer", _("no node named '%s' (see `convscope-cli inspect`)"), name);
      return -1;
    }
  *n_units = cs_actmax_unit_count (m->graph, id);
  if (*n_units < 1)
    {
      cli_error (CLI_EXIT_USAGE, "--layer", _("node '%s' has no units (it must be a 2-D or 4-D activation)"), name);
      return -1;
    }
  return id;
}

int32_t *
cli_parse_units (const char *spec, int32_t n_units, int32_t *count)
{
  int32_t *units = malloc ((size_t) n_units * sizeof (int32_t) + sizeof (int32_t) * 1024);
  int32_t n = 0, cap = n_units + 1024;
  if (units == NULL)
    return NULL;
  if (spec == NULL || strcmp (spec, "all") == 0)
    {
      for (int32_t i = 0; i < n_units; i++)
        units[n++] = i;
      *count = n;
      return units;
    }
  const char *s = spec;
  while (*s)
    {
      char *end;
      long a = strtol (s, &end, 10), b;
      if (end == s || a < 0)
        goto bad;
      b = a;
      if (*end == '-')
        {
          const char *t = end + 1;
          b = strtol (t, &end, 10);
          if (end == t || b < a)
            goto bad;
        }
      if (b >= n_units)
        {
          free (units);
          cli_error (CLI_EXIT_USAGE, "--units", _("the layer has %d units (0..%d); there is no unit %ld"), n_units,
                     n_units - 1, b);
          return NULL;
        }
      for (long u = a; u <= b; u++)
        {
          if (n == cap)
            goto bad;
          units[n++] = (int32_t) u;
        }
      if (*end == ',')
        end++;
      else if (*end != '\0')
        goto bad;
      s = end;
    }
  if (n == 0)
    goto bad;
  *count = n;
  return units;
bad:
  free (units);
  cli_error (CLI_EXIT_USAGE, "--units", _("expected 'all' or a list like 0,3,5-8 (got '%s')"), spec);
  return NULL;
}

void
cli_progress_stderr (void *user_data, double fraction)
{
  static int last = -1;
  if (!isatty (2))
    return;
  int pct = (int) (fraction * 100);
  if (pct == last)
    return;
  last = pct;
  fprintf (stderr, "\r%s: %3d%%%s", (const char *) user_data, pct, fraction >= 1 ? "\n" : "");
  fflush (stderr);
}

int
cli_parse_unit_spec (const cs_model *m, const char *spec, int32_t *layer, int32_t *channel)
{
  const char *colon = strrchr (spec, ':');
  char *end;
  long c = colon != NULL ? strtol (colon + 1, &end, 10) : -1;
  if (colon == NULL || colon == spec || end == colon + 1 || *end != '\0' || c < 0)
    return cli_error (CLI_EXIT_USAGE, "--unit", _("expected LAYER:CHANNEL (got '%s')"), spec);
  char name[256];
  size_t len = (size_t) (colon - spec);
  if (len >= sizeof name)
    return cli_error (CLI_EXIT_USAGE, "--unit", _("layer name too long"));
  memcpy (name, spec, len);
  name[len] = '\0';
  int32_t n_units;
  int32_t id = cli_find_unit_layer (m, name, &n_units);
  if (id < 0)
    return CLI_EXIT_USAGE;
  if (c >= n_units)
    return cli_error (CLI_EXIT_USAGE, "--unit", _("'%s' has %d units (0..%d)"), name, n_units, n_units - 1);
  *layer = id;
  *channel = (int32_t) c;
  return CLI_EXIT_OK;
}

/* The last path component, ignoring trailing slashes, into buf. */
static void
base_name (const char *path, char *buf, size_t size)
{
  size_t len = strlen (path);
  while (len > 1 && path[len - 1] == '/')
    len--;
  size_t start = len;
  while (start > 0 && path[start - 1] != '/')
    start--;
  snprintf (buf, size, "%.*s", (int) (len - start), path + start);
}

void
cli_model_title (const cli_args *args, const char *path, char *buf, size_t size)
{
  char name[256];
  struct stat sb;
  size_t len = strlen (path);
  bool is_run = (stat (path, &sb) == 0 && S_ISDIR (sb.st_mode))
                || (len >= 8 && strcmp (path + len - 8, "run.json") == 0);
  /* A run's run.json names nothing useful; its directory does. */
  if (len >= 8 && strcmp (path + len - 8, "run.json") == 0 && len > 9)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%.*s", (int) (len - 9), path);
      base_name (dir, name, sizeof name);
    }
  else
    base_name (path, name, sizeof name);
  int n = snprintf (buf, size, "%s", name);
  if (is_run)
    {
      cs_error err = { 0 };
      cs_run *run = cs_run_load (path, &err);
      int64_t epoch = -1;
      if (args->values[CLI_OPT_EPOCH] != NULL)
        epoch = strtoll (args->values[CLI_OPT_EPOCH], NULL, 10);
      else if (run != NULL && run->n_epochs > 0)
        epoch = run->epochs[run->n_epochs - 1].epoch;
      if (epoch >= 0 && n >= 0 && (size_t) n < size)
        n += snprintf (buf + n, size - (size_t) n, " \xC2\xB7 epoch %lld", (long long) epoch);
      cs_run_free (run);
    }
  if (args->values[CLI_OPT_WEIGHTS] != NULL && n >= 0 && (size_t) n < size)
    {
      base_name (args->values[CLI_OPT_WEIGHTS], name, sizeof name);
      snprintf (buf + n, size - (size_t) n, " + %s", name);
    }
}
