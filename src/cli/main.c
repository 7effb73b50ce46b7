/* convscope-cli: the headless front end (docs/cli/README.md). Dispatches to one file per command. */
#include <stdio.h>
#include <string.h>

#include "base/threads.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cmd-run-info.h"
#include "config.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *synopsis;
} cli_command;

static const cli_command commands[] = {
  { "inspect", cli_cmd_inspect, "inspect MODEL [--json]" },
  { "predict", cli_cmd_predict, "predict MODEL INPUT... [--top K] [--json]" },
  { "explain", cli_cmd_explain,
    "explain MODEL INPUT --method METHOD [--target auto|N] [--layer NAME]\n"
    "          [--samples N] [--noise SIGMA] [--steps N] [--baseline zero|blur|uniform] [--seed S]\n"
    "          [--window K] [--stride S] [--batch B]\n"
    "          [--out overlay.png] [--size PX] [--map map.png] [--save-map map.npy] [--save-raw raw.npy]\n"
    "          [--colormap jet|viridis|inferno|gray|diverging] [--alpha A] [--grayscale]\n"
    "          [--unit LAYER:CHANNEL] [--budget SECONDS] [--json]" },
  { "compare", cli_cmd_compare,
    "compare MODEL INPUT [--methods all|m1,m2,...] [--target auto|N] [--layer NAME]\n"
    "          [method options as explain] [--colormap jet|viridis|inferno|gray] [--alpha A]\n"
    "          [--grayscale] [--size PX] [--columns N] [--budget SECONDS] [--json]\n"
    "          --out sheet.png|sheet.pdf|sheet.svg" },
  { "evaluate", cli_cmd_evaluate,
    "evaluate MODEL INPUT... --methods all|m1,... [--metric deletion,insertion,randomization]\n"
    "          [--target auto|N] [--layer NAME] [method options as explain] [--json]" },
  { "train", cli_cmd_train,
    "train --arch model.json --dataset fashion-mnist[:DIR]|mnist:DIR --out RUNDIR --epochs N\n"
    "          [--train-subset N] [--val-subset N] [--batch B] [--optimizer sgd|adam] [--lr LR]\n"
    "          [--momentum M] [--weight-decay WD] [--seed S] [--name NAME] [--resume]\n"
    "          [--label-noise P] [--augment] [--lr-schedule constant|step|cosine] [--step-size N]\n"
    "          [--gamma G] [--test-subset N]" },
  { "study", cli_cmd_study,
    "study run SPEC.json --out DIR [--jobs N] [--shard I/N] [--threads T]\n"
    "          study submit SPEC.json --out DIR --slurm [--shards N] [-- SBATCH-OPTIONS...]\n"
    "          study report DIR [--json] [--csv runs.csv] [--out report.pdf|.png|.svg]" },
  { "bench", cli_cmd_bench,
    "bench MODEL --task forward|saliency|gradcam|smoothgrad|integrated-gradients|scorecam\n"
    "          [--batch B] [--repeat N] [--threads T]" },
  { "run-info", cli_cmd_run_info, "run-info RUNDIR [--json] [--csv] [--history]" },
  { "history", cli_cmd_history, "history RUNDIR [--json] [--csv]" },
  { "suspects", cli_cmd_suspects, "suspects RUNDIR [--top K] [--json]" },
  { "shortcuts", cli_cmd_shortcuts,
    "shortcuts RUNDIR [--method METHOD] [--per-class N] [--layer NAME] [--epoch N] [--json]" },
  { "features", cli_cmd_features,
    "features MODEL --layer NAME [--units all|a,b,...] --out sheet.png|sheet.pdf|sheet.svg [--steps N]\n"
    "          [--seed S] [--param fourier|pixel] [--lr LR] [--jitter PX] [--scale S] [--rotate DEG]\n"
    "          [--decay L2] [--blur SIGMA] [--batch B] [--size PX] [--columns N] [--json]" },
  { "top-examples", cli_cmd_top_examples,
    "top-examples MODEL --layer NAME --unit K --dataset SPEC [--split test|train] [--top N]\n"
    "          [--out sheet.png|sheet.pdf|sheet.svg] [--size PX] [--columns N] [--reduce max|mean]\n"
    "          [--limit N] [--json]" },
};

#define N_COMMANDS ((int) (sizeof commands / sizeof commands[0]))

static void
usage (FILE *fp)
{
  /* The synopses are syntax (option names, placeholders): they are not translated. */
  fprintf (fp, "%s convscope-cli COMMAND [ARGS...]\n\n%s\n", _("Usage:"), _("Commands:"));
  for (int i = 0; i < N_COMMANDS; i++)
    fprintf (fp, "  %s\n", commands[i].synopsis);
  fprintf (fp, "\n%s\n", _("Common options:"));
  fprintf (fp, "  --epoch N            %s\n", _("a run directory's checkpoint (default: the last)"));
  fprintf (fp, "  --weights F          %s\n", _("lay the weights of a .safetensors file over the model"));
  fprintf (fp, "  --threads N          %s\n", _("compute threads (default: all cores)"));
  fprintf (fp, "  --mean a,b,c --std a,b,c | --preset imagenet   %s\n", _("input normalisation"));
  fprintf (fp, "  --json               %s\n", _("machine-readable output on stdout"));
  fprintf (fp, "\n%s\n%s\n",
           _("MODEL: .onnx, model.json or a run directory. INPUT: PNG/JPEG or .npy (C,H,W)."),
           _("Exit status: 0 success, 1 bad input file or failed computation, 2 usage error."));
}

void
cli_command_usage (const char *name)
{
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp (commands[i].name, name) == 0)
      printf ("%s convscope-cli %s\n", _("Usage:"), commands[i].synopsis);
}

int
main (int argc, char **argv)
{
  /* Before any BLAS call: may re-execute us with a better OpenBLAS kernel. */
  cs_blas_select_kernel (argc, argv);
  cli_i18n_init ();

  if (argc < 2)
    {
      usage (stderr);
      return cli_error (CLI_EXIT_USAGE, "convscope-cli", _("missing COMMAND"));
    }
  const char *name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      usage (stdout);
      return CLI_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0)
    {
      printf ("convscope-cli %s (OpenBLAS kernel %s)\n", PACKAGE_VERSION, cs_blas_kernel_name ());
      return CLI_EXIT_OK;
    }
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp (commands[i].name, name) == 0)
      return commands[i].run (argc - 2, argv + 2);
  return cli_error (CLI_EXIT_USAGE, name, _("unknown command (try --help)"));
}
