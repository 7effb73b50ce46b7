/* libFuzzer target for the ONNX importer: any bytes must give a model or a clean error.
 * Built with -DCS_FUZZ_STANDALONE it is also a plain program that runs the target over files
 * and directories given as arguments (a corpus), so it works without clang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_error err = { 0 };
  cs_model *m = cs_onnx_load_memory (data, size, "fuzz.onnx", &err);

  if (m == NULL && (err.code == CS_OK || strstr (err.message, "fuzz.onnx") != err.message))
    abort (); /* a failure must say why and name the file */
  cs_model_free (m);
  return 0;
}

#ifdef CS_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static int
run_path (const char *path, int depth)
{
  struct stat st;
  int n = 0;

  if (stat (path, &st) != 0)
    return 0;
  if (S_ISDIR (st.st_mode) && depth < 4)
    {
      DIR *d = opendir (path);
      struct dirent *e;
      char sub[4096];
      while (d != NULL && (e = readdir (d)) != NULL)
        {
          if (e->d_name[0] == '.')
            continue;
          snprintf (sub, sizeof sub, "%s/%s", path, e->d_name);
          n += run_path (sub, depth + 1);
        }
      if (d)
        closedir (d);
      return n;
    }
  if (S_ISREG (st.st_mode) && st.st_size < (64 << 20))
    {
      FILE *f = fopen (path, "rb");
      uint8_t *buf = malloc ((size_t) st.st_size + 1);
      size_t got = f && buf ? fread (buf, 1, (size_t) st.st_size, f) : 0;
      if (f)
        fclose (f);
      if (buf)
        {
          LLVMFuzzerTestOneInput (buf, got);
          /* Also every truncation on a coarse grid: the cheapest mutation that finds bugs. */
          for (size_t cut = 1; cut < got; cut += got / 16 + 1)
            LLVMFuzzerTestOneInput (buf, cut);
          n++;
        }
      free (buf);
    }
  return n;
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int k = 1; k < argc; k++)
    n += run_path (argv[k], 0);
  printf ("fuzz-onnx: ran %d inputs without a crash\n", n);
  return 0;
}
#endif
