/* Atomic output files (temp file beside the target, fsync, rename) and bounded whole-file reads. */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
dup_string (const char *s)
{
  size_t n = strlen (s) + 1;
  char *d = malloc (n);
  if (d != NULL)
    memcpy (d, s, n);
  return d;
}

cs_status
cs_atomic_open (cs_atomic_file *f, const char *path, cs_error *err)
{
  memset (f, 0, sizeof *f);
  f->path = dup_string (path);
  size_t n = strlen (path);
  f->tmp_path = malloc (n + sizeof ".tmp-XXXXXX");
  if (f->path == NULL || f->tmp_path == NULL)
    {
      cs_atomic_abort (f);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
    }
  memcpy (f->tmp_path, path, n);
  memcpy (f->tmp_path + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
  /* Same directory as the target, so that rename() stays on one file system. */
  int fd = mkstemp (f->tmp_path);
  if (fd < 0)
    {
      int e = errno;
      free (f->tmp_path);
      f->tmp_path = NULL;
      cs_atomic_abort (f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot create: %s", path, strerror (e));
    }
  /* mkstemp makes 0600; outputs are ordinary files that others may read. (Not umask-derived:
   * reading the umask means changing it, which races with other threads.) Not fatal. */
  (void) fchmod (fd, 0644);
  f->fp = fdopen (fd, "wb");
  if (f->fp == NULL)
    {
      int e = errno;
      close (fd);
      cs_atomic_abort (f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot open: %s", path, strerror (e));
    }
  return CS_OK;
}

static void
sync_directory (const char *path)
{
  /* Make the rename itself durable; failure here loses nothing already written. */
  const char *slash = strrchr (path, '/');
  char *dir = slash == NULL ? dup_string (".") : strndup (path, (size_t) (slash - path) + 1);
  if (dir == NULL)
    return;
  int fd = open (dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0)
    {
      (void) fsync (fd);
      close (fd);
    }
  free (dir);
}

cs_status
cs_atomic_commit (cs_atomic_file *f, cs_error *err)
{
  if (f->fp == NULL || f->tmp_path == NULL)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: file is not open",
                         f->path != NULL ? f->path : "(atomic file)");
  int failed = fflush (f->fp) != 0 || ferror (f->fp);
  int e = errno;
  if (!failed && fsync (fileno (f->fp)) != 0)
    failed = 1, e = errno;
  if (fclose (f->fp) != 0 && !failed)
    failed = 1, e = errno;
  f->fp = NULL;
  if (!failed && rename (f->tmp_path, f->path) != 0)
    failed = 1, e = errno;
  if (failed)
    {
      cs_status st = cs_error_set (err, CS_ERR_IO, "%s: cannot write: %s", f->path,
                                   strerror (e != 0 ? e : EIO));
      cs_atomic_abort (f);
      return st;
    }
  sync_directory (f->path);
  free (f->tmp_path);
  f->tmp_path = NULL;
  free (f->path);
  f->path = NULL;
  return CS_OK;
}

void
cs_atomic_abort (cs_atomic_file *f)
{
  if (f == NULL)
    return;
  if (f->fp != NULL)
    fclose (f->fp);
  f->fp = NULL;
  if (f->tmp_path != NULL)
    unlink (f->tmp_path);
  free (f->tmp_path);
  f->tmp_path = NULL;
  free (f->path);
  f->path = NULL;
}

cs_status
cs_file_read_all (const char *path, size_t max_bytes, uint8_t **data, size_t *size, cs_error *err)
{
  *data = NULL;
  *size = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return cs_error_set (err, CS_ERR_IO, "%s: no such file", path);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return cs_error_set (err, CS_ERR_IO, "%s: not a regular file", path);
    }
  if ((uint64_t) st.st_size > (uint64_t) max_bytes)
    {
      close (fd);
      return cs_error_set (err, CS_ERR_LIMIT, "%s: file of %lld bytes is larger than the %zu allowed",
                           path, (long long) st.st_size, max_bytes);
    }
  size_t n = (size_t) st.st_size;
  /* One spare byte so that text parsers may rely on a terminating NUL. */
  uint8_t *buf = malloc (n + 1);
  if (buf == NULL)
    {
      close (fd);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: cannot allocate %zu bytes", path, n);
    }
  size_t got = 0;
  while (got < n)
    {
      ssize_t r = read (fd, buf + got, n - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          close (fd);
          free (buf);
          return cs_error_set (err, CS_ERR_IO, "%s: cannot read: %s", path, strerror (e));
        }
      if (r == 0)
        break; /* the file shrank while we read it: take what is there */
      got += (size_t) r;
    }
  close (fd);
  buf[got] = '\0';
  *data = buf;
  *size = got;
  return CS_OK;
}

cs_status
cs_file_write_all (const char *path, const void *data, size_t size, cs_error *err)
{
  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    return st;
  if (size > 0 && fwrite (data, 1, size, f.fp) != size)
    {
      int e = errno;
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot write: %s", path, strerror (e));
    }
  return cs_atomic_commit (&f, err);
}
