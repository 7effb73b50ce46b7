/* `convscope-cli study submit --slurm`: writes a Slurm job array (one task per shard, each a
 * `study run --shard I/N`) and a report job that depends on it, and submits both with sbatch.
 * Slurm schedules; we only describe the work. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/study_spec.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cmd-study.h"
#include "io/atomic_file.h"

enum {
  OPT_OUT = CLI_OPT_FIRST_COMMAND,
  OPT_SLURM,
  OPT_SHARDS,
};

static const cli_option submit_options[] = {
  { "out", true, OPT_OUT },
  { "slurm", false, OPT_SLURM },
  { "shards", true, OPT_SHARDS },
  { NULL, false, 0 },
};

/* Single-quoted for sh: ' becomes '\''. */
static void
put_quoted (FILE *fp, const char *s)
{
  fputc ('\'', fp);
  for (; *s != '\0'; s++)
    *s == '\'' ? fputs ("'\\''", fp) : fputc (*s, fp);
  fputc ('\'', fp);
}

static cs_status
write_script (const char *path, const char *cli, const char *spec, const char *out, int64_t shards,
              bool report, cs_error *err)
{
  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    return st;
  FILE *fp = f.fp;
  fprintf (fp, "#!/bin/sh\n");
  if (!report)
    {
      fprintf (fp, "#SBATCH --job-name=convscope-study\n#SBATCH --array=0-%lld\n", (long long) shards - 1);
      fprintf (fp, "#SBATCH --output=%s/slurm/shard-%%a.log\n", out);
      fprintf (fp, "# One shard of the study: every %lld-th point from the task's index; finished runs are "
               "skipped,\n# so a requeued or repeated task resumes.\nexec ", (long long) shards);
      put_quoted (fp, cli);
      fputs (" study run ", fp);
      put_quoted (fp, spec);
      fputs (" --out ", fp);
      put_quoted (fp, out);
      fprintf (fp, " --shard \"${SLURM_ARRAY_TASK_ID}/%lld\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"\n",
               (long long) shards);
    }
  else
    {
      fprintf (fp, "#SBATCH --job-name=convscope-study-report\n#SBATCH --output=%s/slurm/report.log\n", out);
      fprintf (fp, "# After the array, whatever its tasks' outcome: the report covers the finished runs.\n");
      fputs ("cd ", fp);
      put_quoted (fp, out);
      fputs (" && exec ", fp);
      put_quoted (fp, cli);
      fputs (" study report . --csv runs.csv --out report.pdf --json > report.json\n", fp);
    }
  if (ferror (fp))
    {
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: write error", path);
    }
  if ((st = cs_atomic_commit (&f, err)) == CS_OK && chmod (path, 0755) != 0)
    st = cs_error_set (err, CS_ERR_IO, "%s: %s", path, strerror (errno));
  return st;
}

/* Runs sbatch --parsable [extra] [dependency] script; the job id from its first line. */
static int
sbatch (char **extra, int n_extra, const char *dependency, const char *script, char *job, size_t job_size)
{
  int fds[2];
  if (pipe (fds) != 0)
    return cli_error (CLI_EXIT_FAILURE, "sbatch", "%s", strerror (errno));
  pid_t pid = fork ();
  if (pid == 0)
    {
      const char *argv[256];
      int n = 0;
      argv[n++] = "sbatch";
      argv[n++] = "--parsable";
      for (int i = 0; i < n_extra && n < 250; i++)
        argv[n++] = extra[i];
      if (dependency != NULL)
        argv[n++] = dependency;
      argv[n++] = script;
      argv[n] = NULL;
      dup2 (fds[1], STDOUT_FILENO);
      close (fds[0]);
      close (fds[1]);
      execvp ("sbatch", (char *const *) argv);
      fprintf (stderr, "convscope-cli: error: sbatch: %s (Slurm's client, Debian package slurm-client)\n",
               strerror (errno));
      _exit (127);
    }
  close (fds[1]);
  if (pid < 0)
    {
      close (fds[0]);
      return cli_error (CLI_EXIT_FAILURE, "sbatch", "%s", strerror (errno));
    }
  FILE *fp = fdopen (fds[0], "r");
  job[0] = '\0';
  if (fp == NULL || fgets (job, (int) job_size, fp) == NULL)
    job[0] = '\0';
  if (fp != NULL)
    fclose (fp);
  else
    close (fds[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  job[strcspn (job, ";\n")] = '\0';
  if (!WIFEXITED (status) || WEXITSTATUS (status) == 127)
    return CLI_EXIT_FAILURE; /* the child said why */
  if (WEXITSTATUS (status) != 0 || job[0] == '\0')
    return cli_error (CLI_EXIT_FAILURE, script, _("sbatch refused the job (exit status %d)"), WEXITSTATUS (status));
  return CLI_EXIT_OK;
}

int
cli_study_submit (int argc, char **argv)
{
  /* Everything after "--" goes to sbatch untouched. */
  int n_ours = argc;
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        n_ours = i;
        break;
      }
  char **extra = argv + (n_ours < argc ? n_ours + 1 : argc);
  int n_extra = n_ours < argc ? argc - n_ours - 1 : 0;
  cli_args args;
  bool help;
  int code = cli_study_parse (n_ours, argv, "study submit", submit_options, _("expects one SPEC.json"), &args,
                              &help);
  if (code != CLI_EXIT_OK || help)
    return code;
  if (args.values[OPT_SLURM] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--slurm", "%s", _("missing (Slurm is the only scheduler supported)"));
  if (args.values[OPT_OUT] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", "%s", _("missing (the study directory)"));
  if (n_extra > 200)
    return cli_error (CLI_EXIT_USAGE, "--", "%s", _("too many sbatch options"));
  cs_error err = { 0 };
  cs_study_spec *s = cs_study_spec_load (args.positional[0], args.values[OPT_OUT], &err);
  if (s == NULL)
    return cli_fail (args.positional[0], &err);
  int64_t shards = s->n_points < 1000 ? s->n_points : 1000;
  cs_study_spec_free (s);
  if ((code = cli_get_int (&args, OPT_SHARDS, "--shards", 1, 100000, &shards)) != CLI_EXIT_OK)
    return code;
  /* Absolute paths: the jobs start in another directory, maybe on another machine. */
  char out[PATH_MAX], spec[PATH_MAX], cli[PATH_MAX], dir[PATH_MAX + 16];
  if (mkdir (args.values[OPT_OUT], 0777) != 0 && errno != EEXIST)
    return cli_error (CLI_EXIT_FAILURE, args.values[OPT_OUT], "%s", strerror (errno));
  if (realpath (args.values[OPT_OUT], out) == NULL || realpath (args.positional[0], spec) == NULL)
    return cli_error (CLI_EXIT_FAILURE, args.values[OPT_OUT], "%s", strerror (errno));
  ssize_t n = readlink ("/proc/self/exe", cli, sizeof cli - 1);
  if (n <= 0)
    return cli_error (CLI_EXIT_FAILURE, "/proc/self/exe", "%s", strerror (errno));
  cli[n] = '\0';
  snprintf (dir, sizeof dir, "%s/slurm", out);
  if (mkdir (dir, 0777) != 0 && errno != EEXIST)
    return cli_error (CLI_EXIT_FAILURE, dir, "%s", strerror (errno));
  char array_sh[PATH_MAX + 32], report_sh[PATH_MAX + 32];
  snprintf (array_sh, sizeof array_sh, "%s/array.sh", dir);
  snprintf (report_sh, sizeof report_sh, "%s/report.sh", dir);
  if (write_script (array_sh, cli, spec, out, shards, false, &err) != CS_OK
      || write_script (report_sh, cli, spec, out, shards, true, &err) != CS_OK)
    return cli_fail (dir, &err);
  char job[64], report_job[64], dep[96];
  if ((code = sbatch (extra, n_extra, NULL, array_sh, job, sizeof job)) != CLI_EXIT_OK)
    return code;
  snprintf (dep, sizeof dep, "--dependency=afterany:%s", job);
  if ((code = sbatch (extra, n_extra, dep, report_sh, report_job, sizeof report_job)) != CLI_EXIT_OK)
    return code;
  printf (_("submitted job array %s (%lld tasks) and report job %s; the report will be %s/report.pdf\n"), job,
          (long long) shards, report_job, out);
  return CLI_EXIT_OK;
}
