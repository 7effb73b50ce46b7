/* The writer's lock on a run directory: one process at a time trains or resumes a run, while
 * readers (run-info, the app) never lock and keep working. */
#pragma once

#include <stdint.h>

#include "base/status.h"

/* The lock file in the run directory; it holds the writer's process id while the lock is held. */
#define CS_RUN_LOCK_FILE "run.lock"

typedef struct cs_run_lock cs_run_lock;

/* Takes an exclusive flock(2) on DIR/run.lock, creating DIR (one level) when missing. Never
 * waits: when another process holds it, fails (CS_ERR_ARGUMENT, as for a directory that
 * already holds a run) with "DIR: run is being written by process N". The kernel drops the
 * lock when its holder dies, however it dies, so a lock file left by a killed process never
 * blocks anyone. */
cs_run_lock *cs_run_lock_acquire (const char *dir, cs_error *err);

/* Removes the temporary files a writer killed mid-write left (run.json.tmp-XXXXXX,
 * model.json.tmp-XXXXXX, checkpoints/NAME.safetensors.tmp-XXXXXX): only a lock holder may, since
 * another live writer's files look the same. Returns how many were removed. Other files (a
 * reader's analysis.json.tmp-XXXXXX) are left alone. */
int32_t cs_run_lock_remove_temp_files (const cs_run_lock *lock);

/* Removes the lock file and drops the lock; a directory the lock created and nothing else
 * filled is removed too (a train that failed before its first epoch leaves nothing behind). */
void cs_run_lock_release (cs_run_lock *lock);

/* DIR/NAME, malloc'ed (NULL when out of memory): the run's files by their relative names. */
char *cs_run_file_path (const char *dir, const char *name);
