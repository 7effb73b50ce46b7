/* Fuzz target: class-name files beside a model (cs_labels_load). The input is written both as
 * labels.txt and as labels.json (the parser goes by the extension), in a scratch directory in
 * memory-backed storage when available. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/labels.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char dir[128];

static void
remove_dir (void)
{
  char path[160];
  snprintf (path, sizeof path, "%s/labels.txt", dir);
  unlink (path);
  snprintf (path, sizeof path, "%s/labels.json", dir);
  unlink (path);
  rmdir (dir);
}

static void
load (const char *name, const uint8_t *data, size_t size)
{
  char path[160];
  cs_error err = { 0 };
  snprintf (path, sizeof path, "%s/%s", dir, name);
  if (cs_file_write_all (path, data, size, &err) != CS_OK)
    {
      fprintf (stderr, "fuzz-labels: %s\n", err.message);
      abort ();
    }
  int32_t n = -1;
  char **labels = NULL;
  if (cs_labels_load (path, &n, &labels, &err) != CS_OK)
    {
      if (err.code == CS_OK || strncmp (err.message, path, strlen (path)) != 0 || labels != NULL)
        abort (); /* a failure must say why, name the file and return nothing */
      return;
    }
  if (n < 1 || labels == NULL)
    abort ();
  for (int32_t i = 0; i < n; i++)
    if (labels[i] == NULL || strlen (labels[i]) > size)
      abort ();
  cs_labels_free (n, labels);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (dir[0] == '\0')
    {
      snprintf (dir, sizeof dir, "%s/fuzz-labels-XXXXXX",
                access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
      if (mkdtemp (dir) == NULL)
        abort ();
      atexit (remove_dir);
    }
  load ("labels.txt", data, size);
  load ("labels.json", data, size);
  return 0;
}
