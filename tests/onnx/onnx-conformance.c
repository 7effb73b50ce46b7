/* ONNX conformance: runs every test case of Debian's libonnx-testdata (node/ and
 * pytorch-converted/) through the importer and cs_exec. Every case listed in claimed.txt must
 * pass (one TAP line each); the others are tried and only counted, with the reason for each
 * failure as a TAP comment. Arguments, if any, are case directories to run instead. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx-case.h"
#include "testlib.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"

typedef enum { R_PASS, R_LOAD, R_RUN, R_MISMATCH, R_DATA } result_kind;

static const char *const kind_names[] = { "pass", "load fails", "run fails", "wrong values",
                                          "test data not comparable" };

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted subdirectory names of dir matching prefix; returns the count. */
static int
list_dirs (const char *dir, const char *prefix, char ***out)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  char **names = NULL;
  int n = 0, cap = 0;

  *out = NULL;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)) != NULL)
    {
      char p[2048];
      struct stat st;
      if (e->d_name[0] == '.' || strncmp (e->d_name, prefix, strlen (prefix)) != 0)
        continue;
      snprintf (p, sizeof p, "%s/%s", dir, e->d_name);
      if (stat (p, &st) != 0 || !S_ISDIR (st.st_mode))
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 64;
          names = realloc (names, (size_t) cap * sizeof *names);
        }
      names[n++] = strdup (e->d_name);
    }
  closedir (d);
  qsort (names, (size_t) n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static void
free_list (char **names, int n)
{
  for (int k = 0; k < n; k++)
    free (names[k]);
  free (names);
}

/* Runs one data set; returns the result and a reason. */
static result_kind
run_set (const char *dir, const char *set_dir, char *why, size_t why_size)
{
  cs_error err = { 0 };
  cs_model *m = onnx_test_load_case (dir, set_dir, &err);
  cs_tensor in = { 0 }, want = { 0 };
  cs_exec *e = NULL;
  const cs_tensor *got;
  char path[2200], a[96], b[96];
  result_kind r = R_PASS;

  if (m == NULL)
    {
      snprintf (why, why_size, "%s", err.message);
      return R_LOAD;
    }
  snprintf (path, sizeof path, "%s/input_0.pb", set_dir);
  if (!onnx_test_read_tensor (path, &in, why, why_size))
    {
      r = R_DATA;
      goto out;
    }
  snprintf (path, sizeof path, "%s/output_0.pb", set_dir);
  if (!onnx_test_read_tensor (path, &want, why, why_size))
    {
      r = R_DATA;
      goto out;
    }
  snprintf (path, sizeof path, "%s/output_1.pb", set_dir);
  {
    FILE *f = fopen (path, "rb");
    if (f)
      {
        fclose (f);
        snprintf (why, why_size, "the case has several outputs");
        r = R_DATA;
        goto out;
      }
  }
  if (in.shape.ndim < 1 || in.shape.dim[0] < 1 || in.shape.dim[0] > 4096)
    {
      snprintf (why, why_size, "input of shape %s", cs_shape_format (&in.shape, a, sizeof a));
      r = R_DATA;
      goto out;
    }
  e = cs_exec_new (m, (int32_t) in.shape.dim[0], &err);
  if (e == NULL || cs_exec_forward (e, &in, &err) != CS_OK)
    {
      snprintf (why, why_size, "%s", err.message);
      r = R_RUN;
      goto out;
    }
  got = cs_exec_value (e, m->graph->output_node);
  if (got == NULL || cs_tensor_numel (got) != cs_tensor_numel (&want)
      || !cs_shape_equal (&got->shape, &want.shape))
    {
      /* A rank-0 or differently-ranked output with the same elements still counts. */
      if (got == NULL || cs_tensor_numel (got) != cs_tensor_numel (&want))
        {
          snprintf (why, why_size, "output shape %s, expected %s",
                    got ? cs_shape_format (&got->shape, a, sizeof a) : "(none)",
                    cs_shape_format (&want.shape, b, sizeof b));
          r = R_MISMATCH;
          goto out;
        }
    }
  {
    double worst = 0;
    int64_t at = -1;
    for (int64_t k = 0; k < cs_tensor_numel (&want); k++)
      {
        double g = got->data[k], w = want.data[k], d = fabs (g - w);
        /* ONNX's own tolerance (rtol 1e-3, atol 1e-7) or ours (rtol 1e-4, atol 1e-5). */
        bool ok = (isnan (g) && isnan (w)) || g == w || d <= 1e-7 + 1e-3 * fabs (w)
                  || d <= 1e-5 + 1e-4 * fabs (w);
        if (!ok && (at < 0 || d > worst))
          {
            worst = d;
            at = k;
          }
      }
    if (at >= 0)
      {
        snprintf (why, why_size, "element %lld is %g, expected %g (|diff| %g)", (long long) at,
                  got->data[at], want.data[at], worst);
        r = R_MISMATCH;
      }
  }
out:
  cs_exec_free (e);
  cs_tensor_free (&in);
  cs_tensor_free (&want);
  cs_model_free (m);
  return r;
}

static result_kind
run_case (const char *dir, char *why, size_t why_size)
{
  char **sets;
  int n = list_dirs (dir, "test_data_set_", &sets);
  result_kind r = R_DATA;

  snprintf (why, why_size, "no test_data_set");
  for (int k = 0; k < n; k++)
    {
      char set_dir[2048];
      snprintf (set_dir, sizeof set_dir, "%s/%s", dir, sets[k]);
      r = run_set (dir, set_dir, why, why_size);
      if (r != R_PASS)
        break;
    }
  free_list (sets, n);
  return r;
}

/* claimed.txt: one "suite/case" per line; '#' starts a comment. */
static int
read_claims (char ***out)
{
  const char *src = getenv ("CONVSCOPE_SOURCE_DIR");
  char path[2048], line[512];
  char **names = NULL;
  int n = 0, cap = 0;
  FILE *f;

  snprintf (path, sizeof path, "%s/tests/onnx/claimed.txt", src ? src : ".");
  f = fopen (path, "r");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    {
      char *p = strchr (line, '#');
      if (p)
        *p = '\0';
      p = line + strlen (line);
      while (p > line && (p[-1] == '\n' || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
        *--p = '\0';
      if (line[0] == '\0')
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 64;
          names = realloc (names, (size_t) cap * sizeof *names);
        }
      names[n++] = strdup (line);
    }
  fclose (f);
  qsort (names, (size_t) n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

int
main (int argc, char **argv)
{
  static const char *suites[] = { "node", "pytorch-converted" };
  char **claims = NULL, why[CS_ERROR_MESSAGE_SIZE + 64];
  int n_claims, claimed_pass = 0, claimed_seen = 0, other = 0, counts[5] = { 0 };

  if (argc > 1)
    {
      for (int k = 1; k < argc; k++)
        {
          result_kind r = run_case (argv[k], why, sizeof why);
          CHECK (r == R_PASS, "%s: %s%s%s", argv[k], kind_names[r], r == R_PASS ? "" : ": ",
                 r == R_PASS ? "" : why);
        }
      return test_done ();
    }
  if (access (TESTDATA "/node", 0) != 0)
    TEST_SKIP_ALL ("libonnx-testdata is not installed (%s)", TESTDATA);
  n_claims = read_claims (&claims);
  if (n_claims < 0)
    TEST_SKIP_ALL ("cannot read tests/onnx/claimed.txt (set CONVSCOPE_SOURCE_DIR)");

  for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++)
    {
      char base[512], **cases;
      int n;
      snprintf (base, sizeof base, TESTDATA "/%s", suites[s]);
      n = list_dirs (base, "test_", &cases);
      for (int k = 0; k < n; k++)
        {
          char dir[2048], key[1024];
          const char *kp = key;
          bool claimed;
          result_kind r;
          snprintf (dir, sizeof dir, "%s/%s", base, cases[k]);
          snprintf (key, sizeof key, "%s/%s", suites[s], cases[k]);
          claimed = bsearch (&kp, claims, (size_t) n_claims, sizeof *claims, cmp_str) != NULL;
          r = run_case (dir, why, sizeof why);
          if (claimed)
            {
              claimed_seen++;
              claimed_pass += r == R_PASS;
              CHECK (r == R_PASS, "%s: %s%s%s", key, kind_names[r], r == R_PASS ? "" : ": ",
                     r == R_PASS ? "" : why);
            }
          else
            {
              other++;
              counts[r]++;
              TEST_NOTE ("unclaimed %s: %s%s%s", key, kind_names[r], r == R_PASS ? "" : ": ",
                         r == R_PASS ? "" : why);
            }
        }
      free_list (cases, n);
    }
  CHECK (claimed_seen == n_claims, "all %d claimed cases exist in the test data (found %d)",
         n_claims, claimed_seen);
  TEST_NOTE ("claimed %d/%d passed; of the other %d, %d load and pass, %d fail to load, %d fail "
             "to run, %d give wrong values, %d have test data we cannot compare",
             claimed_pass, n_claims, other, counts[R_PASS], counts[R_LOAD], counts[R_RUN],
             counts[R_MISMATCH], counts[R_DATA]);
  free_list (claims, n_claims);
  return test_done ();
}
