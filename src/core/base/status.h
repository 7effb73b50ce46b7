/* Error values: a status code plus a one-line message naming the file and the reason. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  CS_OK = 0,
  CS_ERR_IO,          /* cannot open, read or write a file */
  CS_ERR_FORMAT,      /* the file is not what it claims to be, or is truncated */
  CS_ERR_UNSUPPORTED, /* a valid input that Convscope does not handle (op, attribute, dtype) */
  CS_ERR_SHAPE,       /* shapes do not fit together */
  CS_ERR_LIMIT,       /* a size beyond what we agree to allocate */
  CS_ERR_MEMORY,      /* allocation failed */
  CS_ERR_ARGUMENT,    /* a bad argument from the caller (layer name, class index, ...) */
  CS_ERR_CANCELLED,   /* the caller's cancel flag was raised */
} cs_status;

#define CS_ERROR_MESSAGE_SIZE 512

typedef struct {
  cs_status code;
  char message[CS_ERROR_MESSAGE_SIZE];
} cs_error;

/* Records the status and a printf-style message in err (if non-NULL) and returns the status,
 * so that callers can write `return cs_error_set (err, CS_ERR_FORMAT, "%s: ...", path);`. */
cs_status cs_error_set (cs_error *err, cs_status code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Prefixes an existing message with "prefix: " (e.g. a file name), keeping the code. */
cs_status cs_error_prefix (cs_error *err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

const char *cs_status_name (cs_status code);

/* Long operations report progress and poll a cancel flag between batches. */
typedef struct {
  void (*progress) (void *user_data, double fraction); /* may be NULL */
  void *user_data;
  const volatile int *cancel;                          /* may be NULL; non-zero = stop */
} cs_progress;

static inline int
cs_progress_cancelled (const cs_progress *p)
{
  return p != NULL && p->cancel != NULL && *p->cancel != 0;
}

static inline void
cs_progress_report (const cs_progress *p, double fraction)
{
  if (p != NULL && p->progress != NULL)
    p->progress (p->user_data, fraction);
}
