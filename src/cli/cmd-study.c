/* `convscope-cli study run`: trains the points of a study grid, each in its own process, skipping
 * finished runs and resuming interrupted ones; `study` dispatches to its subcommands. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "analysis/study_spec.h"
#include "base/clock.h"
#include "base/threads.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cmd-study.h"
#include "io/atomic_file.h"
#include "io/run.h"

enum {
  OPT_OUT = CLI_OPT_FIRST_COMMAND,
  OPT_JOBS,
  OPT_SHARD,
};

static const cli_option run_options[] = {
  { "out", true, OPT_OUT },
  { "jobs", true, OPT_JOBS },
  { "shard", true, OPT_SHARD },
  { NULL, false, 0 },
};

/* SIGINT/SIGTERM (Ctrl-C, scancel): every child stops after its batch, leaving a valid run. */
static volatile int stop_requested;

static void
on_stop (int sig)
{
  stop_requested = 1;
}

int
cli_study_parse (int argc, char **argv, const char *command, const cli_option *options, const char *expects,
                 cli_args *args, bool *help)
{
  int code = cli_parse (argc, argv, command, options, args);
  *help = code == CLI_EXIT_OK && args->values[CLI_OPT_HELP] != NULL;
  if (code != CLI_EXIT_OK)
    return code;
  if (*help)
    {
      cli_command_usage ("study");
      return CLI_EXIT_OK;
    }
  if (args->n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, command, "%s", expects);
  return CLI_EXIT_OK;
}

typedef enum { RUN_NEW, RUN_PARTIAL, RUN_DONE } run_state;

/* Finished when run.json lists the study's last epoch; partial when it lists any epoch. */
static run_state
point_state (const cs_study_point *p)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/run.json", p->dir);
  if (access (path, F_OK) != 0)
    return RUN_NEW;
  cs_error err = { 0 };
  cs_run *run = cs_run_load (p->dir, &err);
  run_state s = RUN_PARTIAL;
  if (run == NULL)
    return RUN_PARTIAL; /* resume reports what is wrong with it */
  if (run->n_epochs > 0 && run->epochs[run->n_epochs - 1].epoch >= p->train.epochs)
    s = RUN_DONE;
  cs_run_free (run);
  return s;
}

/* study.json: the spec as given and each point's directory and settings. Every shard writes
 * the same document (atomically), so concurrent writers agree. */
static cs_status
write_study_file (const cs_study_spec *s, const char *out, cs_error *err)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "format", "convscope-study/1");
  cJSON *spec = cJSON_Parse (s->text);
  cJSON_AddItemToObject (root, "spec", spec != NULL ? spec : cJSON_CreateNull ());
  cJSON *points = cJSON_AddArrayToObject (root, "points");
  for (int32_t i = 0; i < s->n_points; i++)
    {
      const cs_study_point *p = &s->points[i];
      const cs_train_options *o = &p->train;
      cJSON *e = cJSON_CreateObject ();
      const char *base = strrchr (p->dir, '/');
      cJSON_AddNumberToObject (e, "index", p->index);
      cJSON_AddStringToObject (e, "dir", base != NULL ? base + 1 : p->dir);
      cJSON_AddStringToObject (e, "arch", o->arch);
      cJSON_AddNumberToObject (e, "train_subset", (double) o->train_subset);
      cJSON_AddStringToObject (e, "optimizer", cs_optimizer_kind_name (o->optimizer.kind));
      cJSON_AddNumberToObject (e, "lr", o->optimizer.lr);
      cJSON_AddNumberToObject (e, "label_noise", o->label_noise);
      cJSON_AddNumberToObject (e, "weight_decay", o->optimizer.weight_decay);
      cJSON_AddStringToObject (e, "lr_schedule", cs_lr_schedule_name (o->schedule));
      cJSON_AddBoolToObject (e, "augment", o->augment);
      cJSON_AddNumberToObject (e, "seed", (double) o->seed);
      cJSON_AddItemToArray (points, e);
    }
  char *text = cJSON_Print (root);
  cJSON_Delete (root);
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", out, CS_STUDY_FILE);
  cs_status st = text != NULL ? cs_file_write_all (path, text, strlen (text), err)
                              : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  free (text);
  return st;
}

/* The child process of one run. */
static int
train_point (const cs_study_point *p, run_state state, int32_t threads)
{
  cs_threads_set (threads);
  cs_train_options o = p->train;
  o.resume = state == RUN_PARTIAL;
  cs_train_callbacks cb = { .cancel = &stop_requested };
  cs_error err = { 0 };
  cs_status st = cs_train_run (&o, &cb, NULL, &err);
  if (st == CS_ERR_CANCELLED)
    return 3;
  if (st != CS_OK)
    {
      fprintf (stderr, "convscope-cli: error: %s: %s\n", p->dir, err.message);
      return CLI_EXIT_FAILURE;
    }
  return CLI_EXIT_OK;
}

typedef struct {
  pid_t pid;
  int32_t point;
  double start;
} child;

/* Waits for one child; reports it; returns false when it failed. */
static bool
reap (child *kids, int32_t *n_kids, const cs_study_spec *s, int32_t *done, int32_t *trained, int32_t to_train)
{
  int status = 0;
  pid_t pid;
  while ((pid = wait (&status)) < 0 && errno == EINTR)
    ;
  for (int32_t k = 0; k < *n_kids; k++)
    {
      if (kids[k].pid != pid)
        continue;
      const cs_study_point *p = &s->points[kids[k].point];
      bool ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
      (*done)++;
      *trained += ok;
      if (ok)
        printf ("%s  %s  %.1f s  (%d/%d)\n", p->dir, _("done"),
                cs_clock_seconds (CLOCK_MONOTONIC) - kids[k].start, *done, to_train);
      else if (WIFEXITED (status) && WEXITSTATUS (status) == 3)
        printf ("%s  %s\n", p->dir, _("interrupted (run again to resume)"));
      else
        printf ("%s  %s\n", p->dir, _("failed"));
      fflush (stdout);
      kids[k] = kids[--*n_kids];
      return ok;
    }
  return true;
}

/* Runs the shard's unfinished points, `jobs` processes at a time. */
static int
run_points (const cs_study_spec *s, int32_t shard, int32_t shards, int32_t jobs, int32_t threads)
{
  int32_t to_train = 0, skipped = 0, done = 0, trained = 0, n_kids = 0, failed = 0;
  for (int32_t i = shard; i < s->n_points; i += shards)
    point_state (&s->points[i]) == RUN_DONE ? skipped++ : to_train++;
  printf (_("%d runs in this shard: %d finished already, %d to train\n"), to_train + skipped, skipped, to_train);
  fflush (stdout);
  child *kids = calloc ((size_t) jobs, sizeof *kids);
  if (kids == NULL)
    return cli_error (CLI_EXIT_FAILURE, "study", "%s", _("out of memory"));
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  for (int32_t i = shard; i < s->n_points && !stop_requested; i += shards)
    {
      run_state state = point_state (&s->points[i]);
      if (state == RUN_DONE)
        continue;
      if (n_kids == jobs && !reap (kids, &n_kids, s, &done, &trained, to_train))
        failed++;
      if (stop_requested)
        break;
      pid_t pid = fork ();
      if (pid < 0)
        {
          failed++;
          break;
        }
      if (pid == 0)
        _exit (train_point (&s->points[i], state, threads));
      kids[n_kids++] = (child) { .pid = pid, .point = i, .start = cs_clock_seconds (CLOCK_MONOTONIC) };
    }
  while (n_kids > 0)
    if (!reap (kids, &n_kids, s, &done, &trained, to_train))
      failed++;
  free (kids);
  double hours = (cs_clock_seconds (CLOCK_MONOTONIC) - t0) / 3600.0;
  if (trained > 0 && hours > 0)
    printf (_("%d runs in %.2f h: %.1f runs/hour with %d jobs of %d threads\n"), trained, hours,
            (double) trained / hours, jobs, threads);
  if (stop_requested)
    return cli_error (CLI_EXIT_FAILURE, "study", "%s", _("interrupted; run the same command to resume"));
  if (failed > 0)
    return cli_error (CLI_EXIT_FAILURE, "study", _("%d runs failed"), failed);
  return CLI_EXIT_OK;
}

int
cli_study_run (int argc, char **argv)
{
  cli_args args;
  bool help;
  int code = cli_study_parse (argc, argv, "study run", run_options, _("expects one SPEC.json"), &args, &help);
  if (code != CLI_EXIT_OK || help)
    return code;
  const char *out = args.values[OPT_OUT];
  if (out == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", "%s", _("missing (the study directory)"));
  int64_t jobs = 1;
  int32_t shard = 0, shards = 1;
  if ((code = cli_get_int (&args, OPT_JOBS, "--jobs", 1, 256, &jobs)) != CLI_EXIT_OK)
    return code;
  if (args.values[OPT_SHARD] != NULL && !cs_study_shard_parse (args.values[OPT_SHARD], &shard, &shards))
    return cli_error (CLI_EXIT_USAGE, "--shard", "%s", _("expects I/N with 0 <= I < N"));
  /* Default: the cores shared among the jobs. */
  int32_t threads = cs_threads_cores () / (int32_t) jobs;
  if (threads < 1)
    threads = 1;
  if (args.values[CLI_OPT_THREADS] != NULL)
    {
      if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
        return code;
      threads = cs_threads_get ();
    }
  cs_error err = { 0 };
  cs_study_spec *s = cs_study_spec_load (args.positional[0], out, &err);
  if (s == NULL)
    return cli_fail (args.positional[0], &err);
  if (mkdir (out, 0777) != 0 && errno != EEXIST)
    {
      cs_study_spec_free (s);
      return cli_error (CLI_EXIT_FAILURE, out, "%s", strerror (errno));
    }
  if (write_study_file (s, out, &err) != CS_OK)
    {
      cs_study_spec_free (s);
      return cli_fail (out, &err);
    }
  struct sigaction sa = { .sa_handler = on_stop };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  code = run_points (s, shard, shards, (int32_t) jobs, threads);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  cs_study_spec_free (s);
  return code;
}

int
cli_cmd_study (int argc, char **argv)
{
  if (argc >= 1 && strcmp (argv[0], "run") == 0)
    return cli_study_run (argc - 1, argv + 1);
  if (argc >= 1 && strcmp (argv[0], "submit") == 0)
    return cli_study_submit (argc - 1, argv + 1);
  if (argc >= 1 && strcmp (argv[0], "report") == 0)
    return cli_study_report (argc - 1, argv + 1);
  if (argc >= 1 && (strcmp (argv[0], "--help") == 0 || strcmp (argv[0], "-h") == 0))
    {
      cli_command_usage ("study");
      return CLI_EXIT_OK;
    }
  return cli_error (CLI_EXIT_USAGE, "study", "%s", _("expects run, submit or report"));
}
