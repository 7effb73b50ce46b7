/* .npy: versions 1-3, float64, round trips, and malformed headers of every kind. */
#include "io/npy.h"
#include "iotest.h"
#include "testlib.h"

static cs_status
parse_text (const char *header, cs_tensor *t, cs_error *err)
{
  /* a v1.0 file with the given dict and 64 bytes of data */
  uint8_t buf[512] = "\x93NUMPY\x01\x00";
  size_t len = strlen (header);
  buf[8] = (uint8_t) len;
  buf[9] = 0;
  memcpy (buf + 10, header, len);
  return cs_npy_parse (buf, 10 + len + 64, "hand.npy", t, err);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_tensor t;
  const char *versions[] = { "v1.npy", "v2.npy", "v3.npy", "f64.npy" };
  for (int v = 0; v < 4; v++)
    {
      cs_status st = cs_npy_load (data_path (versions[v]), &t, &err);
      bool ok = st == CS_OK && t.shape.ndim == 3 && t.shape.dim[0] == 2 && t.shape.dim[1] == 3
                && t.shape.dim[2] == 4;
      for (int i = 0; ok && i < 24; i++)
        ok = t.data[i] == (float) (i - 12) / 4;
      CHECK (ok, "%s: shape and values (%s)", versions[v], st == CS_OK ? "ok" : err.message);
      cs_tensor_free (&t);
    }
  CHECK (cs_npy_load (data_path ("scalar.npy"), &t, &err) == CS_OK && t.shape.ndim == 0
         && t.data[0] == 2.5f, "0-d array");
  cs_tensor_free (&t);
  const char *unsupported[] = { "fortran.npy", "int32.npy", "bigendian.npy" };
  for (int i = 0; i < 3; i++)
    {
      const char *p = data_path (unsupported[i]);
      CHECK (cs_npy_load (p, &t, &err) == CS_ERR_UNSUPPORTED && names_file (&err, p)
             && t.data == NULL, "%s rejected: %s", unsupported[i], err.message);
    }

  /* round trips */
  char *dir = scratch_dir ();
  int64_t shapes[][5] = { { 1, 7 }, { 4, 1, 3, 5, 2 }, { 0 }, { 2, 0, 3 } };
  for (int s = 0; s < 4; s++)
    {
      cs_shape sh = cs_shape_make ((int32_t) shapes[s][0], &shapes[s][1]);
      cs_tensor a, b;
      cs_tensor_alloc (&a, &sh, NULL);
      for (int64_t i = 0; i < cs_tensor_numel (&a); i++)
        a.data[i] = (float) i * 0.37f - 3.0f;
      const char *p = join (dir, "rt.npy");
      cs_status st = cs_npy_save (p, &a, &err);
      st = st == CS_OK ? cs_npy_load (p, &b, &err) : st;
      bool ok = st == CS_OK && cs_shape_equal (&a.shape, &b.shape)
                && memcmp (a.data, b.data, sizeof (float) * (size_t) cs_tensor_numel (&a)) == 0;
      CHECK (ok, "round trip of a %d-d array", sh.ndim);
      size_t n;
      uint8_t *raw = read_bytes (p, &n);
      CHECK (raw != NULL && (10 + (raw[8] | raw[9] << 8)) % 64 == 0
             && raw[9 + (raw[8] | raw[9] << 8)] == '\n', "header padded to 64 bytes, ends in \\n");
      free (raw);
      cs_tensor_free (&a);
      cs_tensor_free (&b);
    }
  CHECK (count_entries (dir) == 1, "no temp files left");
  /* a failed save leaves nothing: the target is a directory */
  mkdir (join (dir, "isdir.npy"), 0755);
  cs_shape one = cs_shape_make (1, (int64_t[]) { 3 });
  cs_tensor a;
  cs_tensor_alloc (&a, &one, NULL);
  CHECK (cs_npy_save (join (dir, "isdir.npy"), &a, &err) == CS_ERR_IO, "save over a directory "
         "fails: %s", err.message);
  CHECK (count_entries (dir) == 2, "and leaves no temp file");
  CHECK (cs_npy_save (join (dir, "nodir/x.npy"), &a, &err) == CS_ERR_IO
         && count_entries (dir) == 2, "save into a missing directory fails cleanly");
  cs_tensor_free (&a);

  /* malformed */
  size_t size;
  uint8_t *v1 = read_bytes (data_path ("v1.npy"), &size);
  int bad = 0;
  for (size_t n = 0; n < size; n++)
    {
      cs_status st = cs_npy_parse (v1, n, "cut.npy", &t, &err);
      if (st != CS_ERR_FORMAT || strstr (err.message, "cut.npy") == NULL || t.data != NULL)
        bad++;
    }
  CHECK (bad == 0, "every truncation of v1.npy is a format error naming the file");
  free (v1);
  CHECK (cs_npy_parse ((const uint8_t *) "garbage garbage garbage", 23, "g.npy", &t, &err)
         == CS_ERR_FORMAT, "garbage: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                     &t, &err) == CS_ERR_LIMIT, "10^12 elements: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(99999999999999999999999, 1), }", &t, &err) == CS_ERR_LIMIT,
         "a dimension that overflows: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1), }",
                     &t, &err) == CS_ERR_UNSUPPORTED, "7 dims: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 5), }", &t, &err)
         == CS_ERR_FORMAT, "data shorter than the shape: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'shape': (4,), }", &t, &err) == CS_ERR_FORMAT,
         "missing fortran_order");
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,), }", &t, &err)
         == CS_ERR_FORMAT, "bad fortran_order");
  CHECK (parse_text ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", &t,
                     &err) == CS_ERR_UNSUPPORTED, "structured dtype: %s", err.message);
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", &t, &err)
         == CS_ERR_FORMAT, "negative dim");
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), ", &t, &err)
         == CS_ERR_FORMAT, "unterminated dict");
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", &t,
                     &err) == CS_ERR_FORMAT, "unknown key");
  CHECK (parse_text ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &t, &err)
         == CS_OK && t.shape.ndim == 2, "a hand-written header parses");
  cs_tensor_free (&t);
  uint8_t v9[64] = "\x93NUMPY\x09\x00\x10\x00";
  CHECK (cs_npy_parse (v9, sizeof v9, "v9.npy", &t, &err) == CS_ERR_UNSUPPORTED,
         "version 9: %s", err.message);
  uint8_t hl[16] = "\x93NUMPY\x02\x00\xff\xff\xff\x7f{";
  CHECK (cs_npy_parse (hl, sizeof hl, "hl.npy", &t, &err) != CS_OK, "huge header length");
  const char *missing = join (dir, "missing.npy");
  CHECK (cs_npy_load (missing, &t, &err) == CS_ERR_IO && names_file (&err, missing)
         && strstr (err.message, "no such file") != NULL, "missing file: %s", err.message);

  remove_tree (dir);
  return test_done ();
}
