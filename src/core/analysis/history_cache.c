/* history.bin: the example history's cache in a run directory, written atomically and read as
 * untrusted input (layout in docs/formats/history.md). */
#include "analysis/history.h"
#include "analysis/history-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"

#define MAGIC "CSHISTv1"
#define HEADER_SIZE 64
#define MAX_SPEC 4096
/* More examples than any data set of this layout has: a bound before any allocation. */
#define MAX_EXAMPLES 100000000LL
#define MAX_FILE ((size_t) 1 << 34)

/* FNV-1a, 64 bits. */
static uint64_t
hash_bytes (uint64_t h, const void *data, size_t n)
{
  const uint8_t *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

static uint64_t
hash_file (uint64_t h, const char *path)
{
  struct stat st;
  int64_t v[3] = { -1, -1, -1 };
  if (path != NULL && stat (path, &st) == 0)
    {
      v[0] = (int64_t) st.st_size;
      v[1] = (int64_t) st.st_mtim.tv_sec;
      v[2] = (int64_t) st.st_mtim.tv_nsec;
    }
  return hash_bytes (h, v, sizeof v);
}

uint64_t
cs_history_key (const cs_run *run)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  h = hash_bytes (h, MAGIC, 8);
  h = hash_file (h, run->model);
  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      h = hash_bytes (h, &run->epochs[e].epoch, sizeof run->epochs[e].epoch);
      h = hash_file (h, run->epochs[e].checkpoint);
    }
  return h;
}

char *
cs_history_path (const cs_run *run)
{
  size_t len = strlen (run->dir) + sizeof "/history.bin";
  char *p = malloc (len);
  if (p != NULL)
    snprintf (p, len, "%s/history.bin", run->dir);
  return p;
}

/* Little-endian fields, whatever the host. */
static void
put_le (uint8_t *p, uint64_t v, int bytes)
{
  for (int i = 0; i < bytes; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_le (const uint8_t *p, int bytes)
{
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}

static bool
write_le (FILE *fp, uint64_t v, int bytes)
{
  uint8_t b[8];
  put_le (b, v, bytes);
  return fwrite (b, 1, (size_t) bytes, fp) == (size_t) bytes;
}

static bool
write_floats (FILE *fp, const float *v, size_t n)
{
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++)
    {
      uint32_t bits;
      memcpy (&bits, &v[i], 4);
      ok = write_le (fp, bits, 4);
    }
  return ok;
}

cs_status
cs_history_write (const cs_history *h, const char *path, const cs_run *run, cs_error *err)
{
  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    return st;
  uint8_t head[HEADER_SIZE] = { 0 };
  size_t spec_len = strlen (h->dataset);
  memcpy (head, MAGIC, 8);
  put_le (head + 8, cs_history_key (run), 8);
  put_le (head + 16, (uint64_t) h->n_epochs, 4);
  put_le (head + 20, (uint64_t) h->n_classes, 4);
  put_le (head + 24, (uint64_t) h->split[0].n, 8);
  put_le (head + 32, (uint64_t) h->split[1].n, 8);
  put_le (head + 40, spec_len, 4);
  bool ok = spec_len <= MAX_SPEC && fwrite (head, 1, HEADER_SIZE, f.fp) == HEADER_SIZE
            && fwrite (h->dataset, 1, spec_len, f.fp) == spec_len;
  for (int32_t e = 0; ok && e < h->n_epochs; e++)
    ok = write_le (f.fp, (uint32_t) h->epochs[e], 4);
  for (int s = 0; ok && s < CS_HISTORY_N_SPLITS; s++)
    {
      const cs_history_examples *x = &h->split[s];
      size_t cells = (size_t) x->n * (size_t) h->n_epochs;
      for (int64_t i = 0; ok && i < x->n; i++)
        ok = write_le (f.fp, (uint64_t) x->index[i], 8);
      ok = ok && fwrite (x->label, 1, (size_t) x->n, f.fp) == (size_t) x->n;
      ok = ok && write_floats (f.fp, x->prob, cells) && write_floats (f.fp, x->margin, cells);
      ok = ok && fwrite (x->pred, 1, cells, f.fp) == cells && fwrite (x->other, 1, cells, f.fp) == cells;
    }
  if (!ok)
    {
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot write the example history", path);
    }
  return cs_atomic_commit (&f, err);
}

/* The size a header promises, or 0 when its counts overflow. */
static size_t
expected_size (uint64_t spec_len, uint64_t n_epochs, const uint64_t n[2])
{
  /* Each count is bounded before this, so these products fit in 64 bits. */
  uint64_t size = HEADER_SIZE + spec_len + 4 * n_epochs;
  for (int s = 0; s < 2; s++)
    size += n[s] * (8 + 1) + n[s] * n_epochs * (4 + 4 + 1 + 1);
  return size > MAX_FILE ? 0 : (size_t) size;
}

static void
read_floats (const uint8_t *p, float *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      uint32_t bits = (uint32_t) get_le (p + 4 * i, 4);
      memcpy (&v[i], &bits, 4);
    }
}

/* One split's arrays from p, every value checked; returns the bytes consumed or 0. */
static size_t
read_split (const uint8_t *p, cs_history_examples *x, int32_t n_epochs, int32_t n_classes)
{
  size_t cells = (size_t) x->n * (size_t) n_epochs;
  const uint8_t *q = p;
  for (int64_t i = 0; i < x->n; i++, q += 8)
    {
      uint64_t v = get_le (q, 8);
      if (v > (uint64_t) MAX_EXAMPLES || (i > 0 && (int64_t) v <= x->index[i - 1]))
        return 0;
      x->index[i] = (int64_t) v;
    }
  memcpy (x->label, q, (size_t) x->n);
  q += x->n;
  read_floats (q, x->prob, cells);
  q += 4 * cells;
  read_floats (q, x->margin, cells);
  q += 4 * cells;
  memcpy (x->pred, q, cells);
  q += cells;
  memcpy (x->other, q, cells);
  q += cells;
  for (int64_t i = 0; i < x->n; i++)
    if (x->label[i] >= n_classes)
      return 0;
  for (size_t c = 0; c < cells; c++)
    {
      uint8_t label = x->label[c / (size_t) n_epochs];
      if (!(x->prob[c] >= 0.0f && x->prob[c] <= 1.0f) || !isfinite (x->margin[c]) || x->pred[c] >= n_classes
          || x->other[c] >= n_classes || x->other[c] == label)
        return 0;
    }
  return (size_t) (q - p);
}

static cs_history *
parse (const uint8_t *d, size_t size, const char *path, const cs_run *run, cs_error *err)
{
  if (size < HEADER_SIZE || memcmp (d, MAGIC, 8) != 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not an example history (bad magic or truncated header)", path);
      return NULL;
    }
  uint64_t key = get_le (d + 8, 8), n_epochs = get_le (d + 16, 4), n_classes = get_le (d + 20, 4);
  uint64_t n[2] = { get_le (d + 24, 8), get_le (d + 32, 8) }, spec_len = get_le (d + 40, 4);
  if (key != cs_history_key (run))
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: made for other checkpoints", path);
      return NULL;
    }
  if (n_epochs != (uint64_t) run->n_epochs || n_classes < 2 || n_classes > 255 || spec_len == 0
      || spec_len > MAX_SPEC || n[0] > (uint64_t) MAX_EXAMPLES || n[1] > (uint64_t) MAX_EXAMPLES
      || expected_size (spec_len, n_epochs, n) != size)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: counts that do not fit the run or the file's size", path);
      return NULL;
    }
  cs_history *h = calloc (1, sizeof *h);
  cs_status st = h != NULL ? CS_OK : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  const uint8_t *p = d + HEADER_SIZE;
  if (st == CS_OK)
    {
      h->n_epochs = (int32_t) n_epochs;
      h->n_classes = (int32_t) n_classes;
      h->dataset = strndup ((const char *) p, spec_len);
      h->epochs = malloc (n_epochs * sizeof *h->epochs);
      if (h->dataset == NULL || h->epochs == NULL || strlen (h->dataset) != spec_len)
        st = cs_error_set (err, CS_ERR_FORMAT, "%s: bad data set spec", path);
      p += spec_len;
    }
  for (uint64_t e = 0; st == CS_OK && e < n_epochs; e++, p += 4)
    {
      h->epochs[e] = (int32_t) get_le (p, 4);
      if (h->epochs[e] != run->epochs[e].epoch)
        st = cs_error_set (err, CS_ERR_FORMAT, "%s: epoch numbers differ from run.json's", path);
    }
  for (int s = 0; st == CS_OK && s < CS_HISTORY_N_SPLITS; s++)
    {
      cs_history_examples *x = &h->split[s];
      if ((st = cs_history_examples_alloc (x, (int64_t) n[s], h->n_epochs, err)) == CS_OK)
        {
          size_t used = read_split (p, x, h->n_epochs, h->n_classes);
          if (used == 0 && x->n > 0)
            st = cs_error_set (err, CS_ERR_FORMAT, "%s: an index, label, class or probability out of range",
                               path);
          p += used;
        }
    }
  if (st != CS_OK)
    {
      cs_history_free (h);
      return NULL;
    }
  return h;
}

cs_history *
cs_history_read (const char *path, const cs_run *run, cs_error *err)
{
  uint8_t *data;
  size_t size;
  if (cs_file_read_all (path, MAX_FILE, &data, &size, err) != CS_OK)
    return NULL;
  cs_history *h = parse (data, size, path, run, err);
  free (data);
  return h;
}
