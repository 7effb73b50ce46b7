/* The run directory's writer lock (flock on run.lock) and the clean-up only its holder may do. */
#include "training/run_lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct cs_run_lock {
  char *dir;
  char *path;
  int fd;
  bool created_dir;
};

char *
cs_run_file_path (const char *dir, const char *name)
{
  size_t len = strlen (dir) + strlen (name) + 2;
  char *p = malloc (len);
  if (p != NULL)
    snprintf (p, len, "%s/%s", dir, name);
  return p;
}

/* The holder's process id as it wrote it, or 0 while it has not yet. */
static long
holder_pid (int fd)
{
  char buf[32];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *end;
  long pid = strtol (buf, &end, 10);
  return end != buf && pid > 0 ? pid : 0;
}

static cs_run_lock *
lock_fail (cs_run_lock *l)
{
  if (l->fd >= 0)
    close (l->fd);
  if (l->created_dir)
    rmdir (l->dir);
  free (l->dir);
  free (l->path);
  free (l);
  return NULL;
}

cs_run_lock *
cs_run_lock_acquire (const char *dir, cs_error *err)
{
  cs_run_lock *l = calloc (1, sizeof *l);
  if (l == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  l->fd = -1;
  if ((l->dir = strdup (dir)) == NULL || (l->path = cs_run_file_path (dir, CS_RUN_LOCK_FILE)) == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return lock_fail (l);
    }
  if (mkdir (dir, 0777) == 0)
    l->created_dir = true;
  else if (errno != EEXIST)
    {
      cs_error_set (err, CS_ERR_IO, "%s: cannot create the directory: %s", dir, strerror (errno));
      return lock_fail (l);
    }
  /* A holder removes run.lock when it is done; a lock taken on a file unlinked meanwhile
   * protects nothing, so take it again on the file now at that path. */
  for (int attempt = 0; attempt < 100; attempt++)
    {
      l->fd = open (l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (l->fd < 0)
        {
          cs_error_set (err, CS_ERR_IO, "%s: cannot open: %s", l->path, strerror (errno));
          return lock_fail (l);
        }
      if (flock (l->fd, LOCK_EX | LOCK_NB) != 0)
        {
          int e = errno;
          long pid = e == EWOULDBLOCK ? holder_pid (l->fd) : 0;
          if (e != EWOULDBLOCK)
            cs_error_set (err, CS_ERR_IO, "%s: cannot lock: %s", l->path, strerror (e));
          else if (pid > 0)
            cs_error_set (err, CS_ERR_ARGUMENT, "%s: run is being written by process %ld", dir, pid);
          else
            cs_error_set (err, CS_ERR_ARGUMENT, "%s: run is being written by another process", dir);
          return lock_fail (l);
        }
      struct stat held, now;
      if (fstat (l->fd, &held) == 0 && stat (l->path, &now) == 0 && held.st_dev == now.st_dev
          && held.st_ino == now.st_ino)
        {
          char pid[32];
          int n = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
          /* Who holds it is only for the message above (the lock is the flock): not fatal. */
          bool written = ftruncate (l->fd, 0) == 0 && pwrite (l->fd, pid, (size_t) n, 0) == n;
          (void) written;
          return l;
        }
      close (l->fd);
      l->fd = -1;
    }
  cs_error_set (err, CS_ERR_IO, "%s: cannot lock: the lock file keeps changing", l->path);
  return lock_fail (l);
}

/* "NAME.tmp-XXXXXX" as cs_atomic_open makes them, for a NAME ending in suffix. */
static bool
is_temp_of (const char *name, const char *suffix)
{
  const char *t = strstr (name, ".tmp-");
  size_t base = t != NULL ? (size_t) (t - name) : 0, slen = strlen (suffix);
  return t != NULL && strlen (t) == sizeof ".tmp-XXXXXX" - 1 && base >= slen
         && strncmp (name + base - slen, suffix, slen) == 0;
}

static int32_t
remove_in (const char *dir, bool (*match) (const char *name))
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return 0;
  int32_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (match (e->d_name))
      {
        char *p = cs_run_file_path (dir, e->d_name);
        struct stat sb;
        if (p != NULL && lstat (p, &sb) == 0 && S_ISREG (sb.st_mode) && unlink (p) == 0)
          n++;
        free (p);
      }
  closedir (d);
  return n;
}

static bool
writer_temp_in_root (const char *name)
{
  return (strncmp (name, "run.json.", 9) == 0 && is_temp_of (name, "run.json"))
         || (strncmp (name, "model.json.", 11) == 0 && is_temp_of (name, "model.json"));
}

static bool
writer_temp_in_checkpoints (const char *name)
{
  return is_temp_of (name, ".safetensors");
}

int32_t
cs_run_lock_remove_temp_files (const cs_run_lock *lock)
{
  char *ck = cs_run_file_path (lock->dir, "checkpoints");
  int32_t n = remove_in (lock->dir, writer_temp_in_root);
  if (ck != NULL)
    n += remove_in (ck, writer_temp_in_checkpoints);
  free (ck);
  return n;
}

void
cs_run_lock_release (cs_run_lock *lock)
{
  if (lock == NULL)
    return;
  /* Unlinked while still held, so that a process waiting on this file sees it change. */
  unlink (lock->path);
  close (lock->fd);
  lock->fd = -1;
  if (lock->created_dir)
    rmdir (lock->dir); /* fails, as it should, once the run has any file */
  free (lock->dir);
  free (lock->path);
  free (lock);
}
