/* Atomic output files: write to "<path>.tmp-XXXXXX" beside the target, fsync, rename. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"

typedef struct {
  FILE *fp;
  char *path;
  char *tmp_path;
} cs_atomic_file;

cs_status cs_atomic_open (cs_atomic_file *f, const char *path, cs_error *err);
/* Flushes, syncs and renames over the target; on any write error removes the temp file. */
cs_status cs_atomic_commit (cs_atomic_file *f, cs_error *err);
/* Removes the temp file (on an error path). Safe after commit. */
void cs_atomic_abort (cs_atomic_file *f);
/* Whole-file helpers. read: caps the size at max_bytes (CS_ERR_LIMIT beyond). */
cs_status cs_file_read_all (const char *path, size_t max_bytes, uint8_t **data, size_t *size,
                            cs_error *err);
cs_status cs_file_write_all (const char *path, const void *data, size_t size, cs_error *err);
