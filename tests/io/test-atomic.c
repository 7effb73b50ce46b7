/* Atomic files: commit renames into place, abort and failures leave nothing; bounded reads. */
#include "iotest.h"
#include "testlib.h"

int
main (void)
{
  char *dir = scratch_dir ();
  CHECK (dir != NULL, "scratch directory");
  cs_error err = { 0 };

  const char *out = join (dir, "out.bin");
  cs_atomic_file f;
  CHECK (cs_atomic_open (&f, out, &err) == CS_OK, "open");
  fputs ("hello", f.fp);
  CHECK (access (out, F_OK) != 0, "target does not exist before commit");
  CHECK (count_entries (dir) == 1, "one temp file while writing");
  CHECK (cs_atomic_commit (&f, &err) == CS_OK, "commit");
  cs_atomic_abort (&f); /* safe after commit */
  size_t n;
  uint8_t *data = read_bytes (out, &n);
  CHECK (data != NULL && n == 5 && memcmp (data, "hello", 5) == 0, "content after commit");
  free (data);
  CHECK (count_entries (dir) == 1, "no temp file left after commit");

  /* abort keeps the old file and removes the temp */
  CHECK (cs_atomic_open (&f, out, &err) == CS_OK, "reopen");
  fputs ("garbage", f.fp);
  cs_atomic_abort (&f);
  data = read_bytes (out, &n);
  CHECK (data != NULL && n == 5 && memcmp (data, "hello", 5) == 0, "old content after abort");
  free (data);
  CHECK (count_entries (dir) == 1, "no temp file left after abort");

  /* unwritable location */
  const char *bad = join (dir, "no-such-dir/x.bin");
  CHECK (cs_atomic_open (&f, bad, &err) == CS_ERR_IO && names_file (&err, bad),
         "open in a missing directory: %s", err.message);
  CHECK (cs_file_write_all (bad, "x", 1, &err) == CS_ERR_IO, "write_all in a missing directory");

  /* write_all + read_all with a cap */
  const char *w = join (dir, "w.bin");
  CHECK (cs_file_write_all (w, "0123456789", 10, &err) == CS_OK, "write_all");
  data = NULL;
  CHECK (cs_file_read_all (w, 10, &data, &n, &err) == CS_OK && n == 10 && data[10] == '\0',
         "read_all at the cap, NUL-terminated");
  free (data);
  CHECK (cs_file_read_all (w, 9, &data, &n, &err) == CS_ERR_LIMIT && data == NULL
         && names_file (&err, w), "read_all above the cap: %s", err.message);
  const char *missing = join (dir, "missing.bin");
  CHECK (cs_file_read_all (missing, 100, &data, &n, &err) == CS_ERR_IO
         && strstr (err.message, "no such file") != NULL && names_file (&err, missing),
         "missing file: %s", err.message);
  CHECK (cs_file_read_all (dir, 100, &data, &n, &err) == CS_ERR_IO, "a directory: %s",
         err.message);
  struct stat sb;
  CHECK (stat (w, &sb) == 0 && (sb.st_mode & 0777) == 0644, "written files are 0644");

  remove_tree (dir);
  return test_done ();
}
