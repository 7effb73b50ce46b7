/* Error values: formatting and prefixing of status messages. */
#include "base/status.h"

#include <stdio.h>
#include <string.h>

cs_status
cs_error_set (cs_error *err, cs_status code, const char *fmt, ...)
{
  if (err != NULL)
    {
      va_list ap;
      va_start (ap, fmt);
      err->code = code;
      vsnprintf (err->message, sizeof err->message, fmt, ap);
      va_end (ap);
    }
  return code;
}

cs_status
cs_error_prefix (cs_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return CS_ERR_ARGUMENT;
  char prefix[CS_ERROR_MESSAGE_SIZE];
  char old[CS_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  memcpy (old, err->message, sizeof old);
  /* A message cut short is still a message: truncation is intended here. */
  size_t n = strlen (prefix);
  if (n > sizeof err->message - 3)
    n = sizeof err->message - 3;
  memcpy (err->message, prefix, n);
  memcpy (err->message + n, ": ", 2);
  size_t rest = sizeof err->message - n - 3;
  size_t m = strnlen (old, rest);
  memcpy (err->message + n + 2, old, m);
  err->message[n + 2 + m] = '\0';
  return err->code;
}

const char *
cs_status_name (cs_status code)
{
  switch (code)
    {
    case CS_OK: return "ok";
    case CS_ERR_IO: return "i/o error";
    case CS_ERR_FORMAT: return "bad format";
    case CS_ERR_UNSUPPORTED: return "unsupported";
    case CS_ERR_SHAPE: return "shape mismatch";
    case CS_ERR_LIMIT: return "too large";
    case CS_ERR_MEMORY: return "out of memory";
    case CS_ERR_ARGUMENT: return "bad argument";
    case CS_ERR_CANCELLED: return "cancelled";
    }
  return "unknown error";
}
