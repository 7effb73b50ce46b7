/* For targets whose parser reads a path: the input as an anonymous in-memory file, named by its
 * /proc/self/fd path, so that fuzzing touches no disk. */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data into a fresh memfd and returns it (-1 on failure); path receives its name. */
static inline int
fuzz_file (const uint8_t *data, size_t size, char *path, size_t path_size)
{
  int fd = memfd_create ("fuzz", 0);
  if (fd < 0)
    return -1;
  size_t done = 0;
  while (done < size)
    {
      ssize_t w = write (fd, data + done, size - done);
      if (w <= 0)
        {
          close (fd);
          return -1;
        }
      done += (size_t) w;
    }
  snprintf (path, path_size, "/proc/self/fd/%d", fd);
  return fd;
}
