/* Helpers shared by the io tests: fixture paths, scratch directories, raw file writes. */
#pragma once

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/status.h"
#include "io/atomic_file.h"
#include "testlib.h"

static char io_path_buf[8][1024];
static int io_path_next;

/* A path under tests/io/data (rotating static buffers: fine for a few at a time). */
static inline const char *
data_path (const char *name)
{
  const char *src = getenv ("CONVSCOPE_SOURCE_DIR");
  char *buf = io_path_buf[io_path_next++ % 8];
  snprintf (buf, sizeof io_path_buf[0], "%s/tests/io/data/%s", src != NULL ? src : ".", name);
  return buf;
}

static inline const char *
join (const char *dir, const char *name)
{
  char *buf = io_path_buf[io_path_next++ % 8];
  snprintf (buf, sizeof io_path_buf[0], "%s/%s", dir, name);
  return buf;
}

static inline char *
scratch_dir (void)
{
  const char *base = getenv ("TMPDIR");
  char tmpl[512];
  snprintf (tmpl, sizeof tmpl, "%s/cs-io-XXXXXX", base != NULL ? base : "/tmp");
  char *d = mkdtemp (tmpl);
  return d != NULL ? strdup (d) : NULL;
}

static inline int
rm_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove (path);
}

static inline void
remove_tree (char *dir)
{
  if (dir != NULL)
    nftw (dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (dir);
}

/* Number of entries of dir (to check that failed writes leave nothing behind). */
static inline int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      n++;
  if (d != NULL)
    closedir (d);
  return n;
}

static inline void
write_bytes (const char *path, const void *data, size_t size)
{
  FILE *f = fopen (path, "wb");
  if (f != NULL)
    {
      fwrite (data, 1, size, f);
      fclose (f);
    }
}

static inline uint8_t *
read_bytes (const char *path, size_t *size)
{
  uint8_t *data = NULL;
  if (cs_file_read_all (path, (size_t) 1 << 30, &data, size, NULL) != CS_OK)
    return NULL;
  return data;
}

/* The message names the file (its base name at least). */
static inline int
names_file (const cs_error *err, const char *path)
{
  const char *base = strrchr (path, '/');
  return strstr (err->message, base != NULL ? base + 1 : path) != NULL;
}
