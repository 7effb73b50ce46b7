/* A stand-in for libFuzzer's driver, so that every fuzz target also builds with gcc: runs the
 * target over the files given (directories: their files, sorted) and, with --mutate N, over N
 * deterministic mutations of each (bit flips, interesting bytes, truncations, splices). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static long n_mutations;
static long n_runs;

static uint64_t
next (void)
{
  /* xorshift64*: fixed seed, so a failure replays */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1du;
}

static void
run (const uint8_t *data, size_t size)
{
  /* a private copy of exactly size bytes, so that ASan sees any read past the end */
  uint8_t *copy = malloc (size > 0 ? size : 1);
  if (copy == NULL)
    return;
  memcpy (copy, data, size);
  LLVMFuzzerTestOneInput (copy, size);
  free (copy);
  n_runs++;
}

static void
mutate_and_run (const uint8_t *data, size_t size)
{
  static const uint8_t interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, '9', '-', '[', '{', '"' };
  uint8_t *buf = malloc (size * 2 + 16);
  if (buf == NULL)
    return;
  for (long i = 0; i < n_mutations; i++)
    {
      memcpy (buf, data, size);
      size_t n = size;
      int edits = 1 + (int) (next () % 4);
      for (int e = 0; e < edits && n > 0; e++)
        {
          size_t at = (size_t) (next () % n);
          switch (next () % 6)
            {
            case 0: buf[at] ^= (uint8_t) (1u << (next () % 8)); break;
            case 1: buf[at] = interesting[next () % sizeof interesting]; break;
            case 2: n = at; break;                                     /* truncate */
            case 3: buf[at] = (uint8_t) next (); break;
            case 4:                                                    /* duplicate a run */
              {
                size_t len = (size_t) (next () % 16) + 1;
                if (at + len > n)
                  len = n - at;
                if (n + len <= size * 2 + 16)
                  {
                    memmove (buf + at + len, buf + at, n - at);
                    n += len;
                  }
              }
              break;
            case 5:                                                    /* delete a run */
              {
                size_t len = (size_t) (next () % 16) + 1;
                if (at + len > n)
                  len = n - at;
                memmove (buf + at, buf + at + len, n - at - len);
                n -= len;
              }
              break;
            }
        }
      run (buf, n);
    }
  free (buf);
}

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      fprintf (stderr, "%s: cannot open\n", path);
      return 1;
    }
  size_t cap = 1 << 16, n = 0;
  uint8_t *data = malloc (cap);
  size_t got;
  while (data != NULL && (got = fread (data + n, 1, cap - n, f)) > 0)
    {
      n += got;
      if (n == cap && n < ((size_t) 64 << 20))
        {
          uint8_t *d = realloc (data, cap * 2);
          if (d == NULL)
            break;
          data = d;
          cap *= 2;
        }
    }
  fclose (f);
  if (data == NULL)
    return 1;
  run (data, n);
  mutate_and_run (data, n);
  free (data);
  return 0;
}

static int
compare (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
run_path (const char *path)
{
  struct stat sb;
  if (stat (path, &sb) != 0)
    {
      fprintf (stderr, "%s: no such file\n", path);
      return 1;
    }
  if (!S_ISDIR (sb.st_mode))
    return run_file (path);
  DIR *d = opendir (path);
  char **names = NULL;
  size_t count = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      {
        char **grown = realloc (names, (count + 1) * sizeof *names);
        if (grown == NULL)
          break;
        names = grown;
        size_t len = strlen (path) + strlen (e->d_name) + 2;
        names[count] = malloc (len);
        snprintf (names[count], len, "%s/%s", path, e->d_name);
        count++;
      }
  if (d != NULL)
    closedir (d);
  qsort (names, count, sizeof *names, compare);
  int failed = 0;
  for (size_t i = 0; i < count; i++)
    {
      failed |= run_file (names[i]);
      free (names[i]);
    }
  free (names);
  return failed;
}

int
main (int argc, char **argv)
{
  int failed = 0, files = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--mutate") == 0 && i + 1 < argc)
        {
          n_mutations = strtol (argv[++i], NULL, 10);
          continue;
        }
      failed |= run_path (argv[i]);
      files++;
    }
  if (files == 0)
    {
      fprintf (stderr, "usage: %s [--mutate N] FILE|DIR...\n", argv[0]);
      return 2;
    }
  printf ("%s: %ld inputs ran without a crash\n", argv[0], n_runs);
  return failed;
}
