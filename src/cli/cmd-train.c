/* `convscope-cli train`: trains a model.json on a data set into a run directory (docs/cli/train.md). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "training/run_lock.h"
#include "training/train_run.h"

enum {
  OPT_ARCH = CLI_OPT_FIRST_COMMAND,
  OPT_DATASET,
  OPT_OUT,
  OPT_EPOCHS,
  OPT_TRAIN_SUBSET,
  OPT_VAL_SUBSET,
  OPT_BATCH,
  OPT_OPTIMIZER,
  OPT_LR,
  OPT_MOMENTUM,
  OPT_WEIGHT_DECAY,
  OPT_SEED,
  OPT_NAME,
  OPT_RESUME,
  OPT_LABEL_NOISE,
  OPT_AUGMENT,
  OPT_LR_SCHEDULE,
  OPT_STEP_SIZE,
  OPT_GAMMA,
  OPT_TEST_SUBSET,
};

static const cli_option train_options[] = {
  { "arch", true, OPT_ARCH },
  { "dataset", true, OPT_DATASET },
  { "out", true, OPT_OUT },
  { "epochs", true, OPT_EPOCHS },
  { "train-subset", true, OPT_TRAIN_SUBSET },
  { "val-subset", true, OPT_VAL_SUBSET },
  { "batch", true, OPT_BATCH },
  { "optimizer", true, OPT_OPTIMIZER },
  { "lr", true, OPT_LR },
  { "momentum", true, OPT_MOMENTUM },
  { "weight-decay", true, OPT_WEIGHT_DECAY },
  { "seed", true, OPT_SEED },
  { "name", true, OPT_NAME },
  { "resume", false, OPT_RESUME },
  { "label-noise", true, OPT_LABEL_NOISE },
  { "augment", false, OPT_AUGMENT },
  { "lr-schedule", true, OPT_LR_SCHEDULE },
  { "step-size", true, OPT_STEP_SIZE },
  { "gamma", true, OPT_GAMMA },
  { "test-subset", true, OPT_TEST_SUBSET },
  { NULL, false, 0 },
};

static const char *const optimizers[] = { "sgd", "adam", NULL };
static const char *const schedules[] = { "constant", "step", "cosine", NULL };

/* The study options: label noise, augmentation, schedule, held-back test split. */
static int
get_study_options (cli_args *args, cs_train_options *o)
{
  const char *sched = "constant";
  int64_t step = o->step_size, test = 0;
  int code;
  if ((code = cli_get_choice (args, OPT_LR_SCHEDULE, "--lr-schedule", schedules, &sched))
      || (code = cli_get_double (args, OPT_LABEL_NOISE, "--label-noise", 0.0, 1.0, &o->label_noise))
      || (code = cli_get_int (args, OPT_STEP_SIZE, "--step-size", 1, 100000, &step))
      || (code = cli_get_double (args, OPT_GAMMA, "--gamma", 1e-9, 1e3, &o->gamma))
      || (code = cli_get_int (args, OPT_TEST_SUBSET, "--test-subset", 1, INT64_C (1) << 40, &test)))
    return code;
  cs_lr_schedule_parse (sched, &o->schedule);
  o->step_size = (int32_t) step;
  o->test_subset = test;
  o->augment = args->values[OPT_AUGMENT] != NULL;
  return CLI_EXIT_OK;
}

/* Ctrl-C asks the trainer to stop after the current batch; a second one kills as usual (every
 * file is written through a rename, so even then the run stays valid). */
static volatile int interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

typedef struct {
  bool tty;
  bool bar_shown;
} train_view;

static void
on_batch (void *user, int32_t epoch, int32_t epochs, const char *phase, double fraction)
{
  train_view *v = user;
  if (!v->tty)
    return;
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int filled = (int) (fraction * WIDTH + 0.5);
  for (int i = 0; i < WIDTH; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[WIDTH] = '\0';
  fprintf (stderr, "\r\033[Kepoch %d/%d %-8s [%s] %3.0f%%", epoch, epochs, phase, bar, fraction * 100.0);
  fflush (stderr);
  v->bar_shown = true;
}

static void
on_epoch (void *user, const cs_run_metrics *m, int32_t epochs)
{
  train_view *v = user;
  if (v->bar_shown)
    {
      fprintf (stderr, "\r\033[K");
      fflush (stderr);
      v->bar_shown = false;
    }
  if (m->epoch == 0)
    printf ("epoch %d/%d  initialisation                              val_loss %.4f  val_acc %.4f  %.1f s\n",
            m->epoch, epochs, m->val_loss, m->val_accuracy, m->seconds);
  else
    printf ("epoch %d/%d  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  %.1f s\n", m->epoch,
            epochs, m->train_loss, m->train_accuracy, m->val_loss, m->val_accuracy, m->seconds);
  fflush (stdout);
}

int
cli_cmd_train (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "train", train_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("train");
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 0)
    return cli_error (CLI_EXIT_USAGE, args.positional[0], _("unexpected argument"));
  cs_train_options o = cs_train_options_default ();
  o.resume = args.values[OPT_RESUME] != NULL;
  o.arch = args.values[OPT_ARCH];
  o.dataset = args.values[OPT_DATASET];
  o.out = args.values[OPT_OUT];
  if (o.out == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", _("missing (the run directory)"));
  if (args.values[OPT_EPOCHS] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--epochs", _("missing"));
  if (!o.resume && o.arch == NULL)
    return cli_error (CLI_EXIT_USAGE, "--arch", _("missing (a model.json)"));
  if (!o.resume && o.dataset == NULL)
    return cli_error (CLI_EXIT_USAGE, "--dataset", _("missing (fashion-mnist, fashion-mnist:DIR or mnist:DIR)"));
  const char *opt_name = "sgd";
  if ((code = cli_get_choice (&args, OPT_OPTIMIZER, "--optimizer", optimizers, &opt_name)) != CLI_EXIT_OK)
    return code;
  cs_optimizer_kind kind = CS_OPTIMIZER_SGD;
  cs_optimizer_kind_parse (opt_name, &kind);
  o.optimizer = cs_optimizer_config_default (kind);
  int64_t epochs = 0, train_subset = 0, val_subset = 0, batch = o.batch, seed = 0;
  if ((code = cli_get_int (&args, OPT_EPOCHS, "--epochs", 1, 100000, &epochs))
      || (code = cli_get_int (&args, OPT_TRAIN_SUBSET, "--train-subset", 1, INT64_C (1) << 40, &train_subset))
      || (code = cli_get_int (&args, OPT_VAL_SUBSET, "--val-subset", 1, INT64_C (1) << 40, &val_subset))
      || (code = cli_get_int (&args, OPT_BATCH, "--batch", 1, 65536, &batch))
      || (code = cli_get_int (&args, OPT_SEED, "--seed", 0, INT64_MAX, &seed))
      || (code = cli_get_double (&args, OPT_LR, "--lr", 1e-12, 1e6, &o.optimizer.lr))
      || (code = cli_get_double (&args, OPT_MOMENTUM, "--momentum", 0.0, 0.999999, &o.optimizer.momentum))
      || (code = cli_get_double (&args, OPT_WEIGHT_DECAY, "--weight-decay", 0.0, 1e6,
                                 &o.optimizer.weight_decay)))
    return code;
  if ((code = get_study_options (&args, &o)) != CLI_EXIT_OK || (code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;
  o.epochs = (int32_t) epochs;
  o.train_subset = train_subset;
  o.val_subset = val_subset;
  o.batch = (int32_t) batch;
  o.seed = (uint64_t) seed;
  o.name = args.values[OPT_NAME];

  train_view view = { .tty = isatty (STDERR_FILENO) != 0 };
  cs_train_callbacks cb = { .batch = on_batch, .epoch = on_epoch, .user = &view, .cancel = &interrupted };
  struct sigaction sa = { .sa_handler = on_sigint };
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction (SIGINT, &sa, NULL);
  cs_error err = { 0 };
  /* One writer per run, from before the data set loads to the last epoch; readers never lock.
   * Holding it, the temp files of a writer killed mid-write can go. */
  cs_run_lock *lock = cs_run_lock_acquire (o.out, &err);
  if (lock == NULL)
    return cli_fail (o.out, &err);
  cs_run_lock_remove_temp_files (lock);
  int32_t last = -1;
  cs_status st = cs_train_run (&o, &cb, &last, &err);
  cs_run_lock_release (lock);
  signal (SIGINT, SIG_DFL);
  if (view.bar_shown)
    fprintf (stderr, "\r\033[K");
  if (st == CS_ERR_CANCELLED)
    {
      if (last >= 0)
        return cli_error (CLI_EXIT_FAILURE, o.out, _("interrupted; the run is complete up to epoch %d "
                          "(--resume continues it)"), last);
      return cli_error (CLI_EXIT_FAILURE, o.out, _("interrupted before the first epoch was written"));
    }
  /* Core messages name their file (the data set, the arch, the run): keep them as they are. */
  if (st != CS_OK && strchr (err.message, ':') != NULL && strchr (err.message, '\n') == NULL)
    {
      fprintf (stderr, "convscope-cli: error: %s\n", err.message);
      return CLI_EXIT_FAILURE;
    }
  if (st != CS_OK)
    return cli_fail (o.out, &err);
  return CLI_EXIT_OK;
}
