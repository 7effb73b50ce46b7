/* IDX reader over zlib's gz* interface, which reads plain files transparently. */
#include "data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The buffer grows as data actually arrives, so a header claiming a gigabyte in a small
 * (truncated or hostile) file never makes us allocate the gigabyte. */
#define CHUNK ((int64_t) 1 << 22)

static cs_status
read_exact (gzFile gz, const char *path, uint8_t *buf, int64_t want, int64_t *got, cs_error *err)
{
  *got = 0;
  while (*got < want)
    {
      int64_t ask = want - *got;
      if (ask > (1 << 30))
        ask = 1 << 30;
      int r = gzread (gz, buf + *got, (unsigned) ask);
      if (r < 0)
        {
          int code;
          const char *msg = gzerror (gz, &code);
          /* zlib prefixes its messages with the path it was given */
          size_t plen = strlen (path);
          if (strncmp (msg, path, plen) == 0 && msg[plen] == ':' && msg[plen + 1] == ' ')
            msg += plen + 2;
          if (code == Z_ERRNO)
            return cs_error_set (err, CS_ERR_IO, "%s: %s", path, strerror (errno));
          return cs_error_set (err, CS_ERR_FORMAT, "%s: %s gzip data (%s)", path,
                               code == Z_BUF_ERROR ? "truncated" : "corrupt", msg);
        }
      if (r == 0)
        break;
      *got += r;
    }
  return CS_OK;
}

static const char *
dims_text (const cs_idx *idx, char *buf, size_t size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int32_t d = 0; d < idx->ndim && used < size; d++)
    used += (size_t) snprintf (buf + used, size - used, d ? " x %lld" : "%lld", (long long) idx->dim[d]);
  return buf;
}

static cs_status
read_payload (gzFile gz, const char *path, cs_idx *out, cs_error *err)
{
  char dims[96];
  int64_t cap = out->size < CHUNK ? out->size : CHUNK;
  out->data = malloc ((size_t) (cap > 0 ? cap : 1));
  if (out->data == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
  int64_t have = 0;
  while (have < out->size)
    {
      if (have == cap)
        {
          int64_t ncap = cap * 2 < out->size ? cap * 2 : out->size;
          uint8_t *p = realloc (out->data, (size_t) ncap);
          if (p == NULL)
            return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
          out->data = p;
          cap = ncap;
        }
      int64_t got;
      cs_status st = read_exact (gz, path, out->data + have, cap - have, &got, err);
      if (st != CS_OK)
        return st;
      have += got;
      if (have < cap)
        break; /* the data ended before the buffer filled */
    }
  if (have < out->size)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: truncated: the header announces %s = %lld bytes, "
                         "the file holds %lld", path, dims_text (out, dims, sizeof dims),
                         (long long) out->size, (long long) have);
  uint8_t extra;
  int64_t more;
  cs_status st = read_exact (gz, path, &extra, 1, &more, err);
  if (st != CS_OK)
    return st;
  if (more != 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: trailing data after the %lld bytes of %s", path,
                         (long long) out->size, dims_text (out, dims, sizeof dims));
  return CS_OK;
}

cs_status
cs_idx_load (const char *path, cs_idx *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  errno = 0;
  gzFile gz = gzopen (path, "rb");
  if (gz == NULL)
    return cs_error_set (err, CS_ERR_IO, "%s: %s", path, errno ? strerror (errno) : "cannot open");
  uint8_t head[4 + 4 * 4];
  int64_t got;
  cs_status st = read_exact (gz, path, head, 4, &got, err);
  if (st == CS_OK && got < 4)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: truncated: not even an IDX header", path);
  if (st == CS_OK && (head[0] != 0 || head[1] != 0))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: not an IDX file (bad magic %02x %02x)", path, head[0],
                       head[1]);
  if (st == CS_OK && head[2] != 0x08)
    st = cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: IDX element type 0x%02x; only unsigned bytes "
                       "(0x08) are supported", path, head[2]);
  if (st == CS_OK && (head[3] < 1 || head[3] > 4))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: IDX file with %d dims (1 to 4 supported)", path, head[3]);
  if (st == CS_OK)
    {
      out->ndim = head[3];
      st = read_exact (gz, path, head + 4, 4 * out->ndim, &got, err);
      if (st == CS_OK && got < 4 * out->ndim)
        st = cs_error_set (err, CS_ERR_FORMAT, "%s: truncated IDX header", path);
    }
  if (st == CS_OK)
    {
      out->size = 1;
      for (int32_t d = 0; d < out->ndim && st == CS_OK; d++)
        {
          const uint8_t *b = head + 4 + 4 * d;
          out->dim[d] = ((int64_t) b[0] << 24) | ((int64_t) b[1] << 16) | ((int64_t) b[2] << 8) | b[3];
          if (out->dim[d] == 0)
            st = cs_error_set (err, CS_ERR_FORMAT, "%s: dim %d is zero", path, d);
          else if (out->dim[d] > CS_IDX_MAX_BYTES / out->size)
            st = cs_error_set (err, CS_ERR_LIMIT, "%s: the header announces more than %lld bytes", path,
                               (long long) CS_IDX_MAX_BYTES);
          else
            out->size *= out->dim[d];
        }
    }
  if (st == CS_OK)
    st = read_payload (gz, path, out, err);
  gzclose (gz);
  if (st != CS_OK)
    cs_idx_free (out);
  return st;
}

void
cs_idx_free (cs_idx *idx)
{
  free (idx->data);
  memset (idx, 0, sizeof *idx);
}
