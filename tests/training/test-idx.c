/* IDX reading: plain and gzip files, and every way a file can be wrong giving a clear error
 * that names the file, never a crash or an allocation the file cannot back. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/idx.h"
#include "testlib.h"

static char dir[] = "/tmp/cs-test-idx-XXXXXX";

static char *
path_of (const char *name)
{
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf (buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

/* An IDX image file of n images h x w whose pixel i is i % 251. */
static size_t
make_idx (uint8_t *buf, uint32_t n, uint32_t h, uint32_t w, int ndim)
{
  uint32_t dims[3] = { n, h, w };
  size_t len = 0;
  buf[len++] = 0;
  buf[len++] = 0;
  buf[len++] = 0x08;
  buf[len++] = (uint8_t) ndim;
  for (int d = 0; d < ndim; d++)
    {
      buf[len++] = (uint8_t) (dims[d] >> 24);
      buf[len++] = (uint8_t) (dims[d] >> 16);
      buf[len++] = (uint8_t) (dims[d] >> 8);
      buf[len++] = (uint8_t) dims[d];
    }
  size_t payload = ndim == 1 ? n : (size_t) n * h * w;
  for (size_t i = 0; i < payload; i++)
    buf[len++] = (uint8_t) (ndim == 1 ? i % 10 : i % 251);
  return len;
}

static void
write_plain (const char *path, const uint8_t *data, size_t len)
{
  FILE *f = fopen (path, "wb");
  fwrite (data, 1, len, f);
  fclose (f);
}

static void
write_gz (const char *path, const uint8_t *data, size_t len)
{
  gzFile g = gzopen (path, "wb");
  gzwrite (g, data, (unsigned) len);
  gzclose (g);
}

static void
expect_error (const char *name, cs_status code, const char *words)
{
  cs_idx idx;
  cs_error err = { 0 };
  cs_status st = cs_idx_load (path_of (name), &idx, &err);
  CHECK (st == code && strstr (err.message, path_of (name)) != NULL && strstr (err.message, words) != NULL,
         "%s: %s (status %s, expected %s)", name, err.message, cs_status_name (st), cs_status_name (code));
  CHECK (idx.data == NULL, "%s: nothing left allocated", name);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    TEST_SKIP_ALL ("cannot create a temporary directory");
  static uint8_t buf[1 << 16];
  size_t len = make_idx (buf, 5, 7, 6, 3);
  write_plain (path_of ("plain"), buf, len);
  write_gz (path_of ("packed.gz"), buf, len);

  for (int k = 0; k < 2; k++)
    {
      const char *name = k ? "packed.gz" : "plain";
      cs_idx idx;
      cs_error err = { 0 };
      cs_status st = cs_idx_load (path_of (name), &idx, &err);
      CHECK (st == CS_OK, "%s loads: %s", name, err.message);
      CHECK (idx.ndim == 3 && idx.dim[0] == 5 && idx.dim[1] == 7 && idx.dim[2] == 6 && idx.size == 210,
             "%s: dims 5 x 7 x 6", name);
      bool same = st == CS_OK;
      for (int i = 0; same && i < 210; i++)
        same = idx.data[i] == i % 251;
      CHECK (same, "%s: pixels as written", name);
      cs_idx_free (&idx);
    }

  /* a truncated payload, plain and compressed */
  write_plain (path_of ("short"), buf, len - 10);
  expect_error ("short", CS_ERR_FORMAT, "truncated");
  write_gz (path_of ("short.gz"), buf, len - 10);
  expect_error ("short.gz", CS_ERR_FORMAT, "truncated");
  /* a gzip stream cut in the middle */
  {
    static uint8_t big[1 << 16];
    size_t blen = make_idx (big, 40, 28, 28, 3);
    write_gz (path_of ("whole.gz"), big, blen);
    FILE *f = fopen (path_of ("whole.gz"), "rb");
    static uint8_t z[1 << 16];
    size_t zlen = fread (z, 1, sizeof z, f);
    fclose (f);
    write_plain (path_of ("cut.gz"), z, zlen / 2);
    expect_error ("cut.gz", CS_ERR_FORMAT, "truncated");
    /* a flipped byte in the deflate data: corrupt, not silently wrong */
    z[zlen / 2] ^= 0x55;
    z[zlen / 2 + 1] ^= 0x55;
    write_plain (path_of ("flipped.gz"), z, zlen);
    cs_idx idx;
    cs_error err = { 0 };
    cs_status st = cs_idx_load (path_of ("flipped.gz"), &idx, &err);
    CHECK (st != CS_OK && strstr (err.message, "flipped.gz") != NULL, "corrupt gzip data: %s", err.message);
  }
  /* trailing bytes */
  uint8_t more[1 << 16];
  memcpy (more, buf, len);
  more[len] = 1;
  write_plain (path_of ("long"), more, len + 1);
  expect_error ("long", CS_ERR_FORMAT, "trailing data");
  /* bad magic, element type, dims */
  memcpy (more, buf, len);
  more[0] = 0x1f;
  write_plain (path_of ("magic"), more, len);
  expect_error ("magic", CS_ERR_FORMAT, "not an IDX file");
  memcpy (more, buf, len);
  more[2] = 0x0d;
  write_plain (path_of ("float"), more, len);
  expect_error ("float", CS_ERR_UNSUPPORTED, "0x0d");
  memcpy (more, buf, len);
  more[3] = 9;
  write_plain (path_of ("dims"), more, len);
  expect_error ("dims", CS_ERR_FORMAT, "9 dims");
  memcpy (more, buf, len);
  more[4] = more[5] = more[6] = more[7] = 0;
  write_plain (path_of ("zero"), more, len);
  expect_error ("zero", CS_ERR_FORMAT, "zero");
  /* a header claiming 4 GB: refused before any allocation */
  memcpy (more, buf, len);
  more[4] = more[8] = more[12] = 0x7f;
  write_plain (path_of ("huge"), more, len);
  expect_error ("huge", CS_ERR_LIMIT, "more than");
  /* a header claiming 200 MB in a small file: truncated, read in bounded chunks */
  memcpy (more, buf, len);
  more[4] = 0x00;
  more[5] = 0x04;
  write_plain (path_of ("claims"), more, len);
  expect_error ("claims", CS_ERR_FORMAT, "truncated");
  write_plain (path_of ("empty"), buf, 0);
  expect_error ("empty", CS_ERR_FORMAT, "truncated");
  expect_error ("missing", CS_ERR_IO, "No such file");

  /* A data set directory with one broken file names that file. */
  uint8_t lab[64];
  size_t llen = make_idx (lab, 5, 0, 0, 1);
  write_gz (path_of ("train-images-idx3-ubyte.gz"), buf, len);
  write_gz (path_of ("train-labels-idx1-ubyte.gz"), lab, llen);
  write_plain (path_of ("t10k-images-idx3-ubyte"), buf, len);
  write_plain (path_of ("t10k-labels-idx1-ubyte"), lab, llen);
  char spec[600];
  snprintf (spec, sizeof spec, "mnist:%s", dir);
  cs_dataset ds;
  cs_error err = { 0 };
  cs_status st = cs_dataset_open (spec, &ds, &err);
  CHECK (st == CS_OK && ds.train.n == 5 && ds.test.n == 5 && ds.train.height == 7 && ds.train.width == 6
         && ds.n_classes == 10, "mnist:DIR with gzipped and plain files: %s", err.message);
  if (st == CS_OK)
    cs_dataset_free (&ds);
  write_plain (path_of ("t10k-labels-idx1-ubyte"), lab, llen - 2);
  st = cs_dataset_open (spec, &ds, &err);
  CHECK (st == CS_ERR_FORMAT && strstr (err.message, "t10k-labels-idx1-ubyte") != NULL
         && strstr (err.message, "truncated") != NULL, "a truncated label file is named: %s", err.message);
  lab[8] = 12;
  write_plain (path_of ("t10k-labels-idx1-ubyte"), lab, llen);
  st = cs_dataset_open (spec, &ds, &err);
  CHECK (st == CS_ERR_FORMAT && strstr (err.message, "label 12") != NULL, "a label out of range: %s", err.message);
  st = cs_dataset_open ("cifar:/tmp", &ds, &err);
  CHECK (st == CS_ERR_ARGUMENT && strstr (err.message, "unknown data set") != NULL, "unknown SPEC: %s", err.message);
  st = cs_dataset_open ("fashion-mnist:/nonexistent", &ds, &err);
  CHECK (st == CS_ERR_IO && strstr (err.message, "/nonexistent/train-images-idx3-ubyte") != NULL,
         "a missing directory names the file: %s", err.message);

  /* subsets: seeded, sorted, without repeats; the whole set when count is 0 or too large */
  int64_t *a, *b, na, nb;
  cs_dataset_subset (1000, 100, 7, &a, &na, &err);
  cs_dataset_subset (1000, 100, 7, &b, &nb, &err);
  bool ok = na == 100 && nb == 100 && memcmp (a, b, 100 * sizeof *a) == 0;
  for (int i = 1; ok && i < 100; i++)
    ok = a[i] > a[i - 1] && a[i] < 1000;
  CHECK (ok, "subset of 100 from 1000: same for the same seed, sorted, distinct");
  free (b);
  cs_dataset_subset (1000, 100, 8, &b, &nb, &err);
  CHECK (memcmp (a, b, 100 * sizeof *a) != 0, "another seed, another subset");
  free (a);
  free (b);
  cs_dataset_subset (50, 0, 7, &a, &na, &err);
  CHECK (na == 50 && a[49] == 49, "count 0 selects everything");
  free (a);

  char cmd[600];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    TEST_NOTE ("could not remove %s", dir);
  return test_done ();
}
