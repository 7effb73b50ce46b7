/* convscope-cli: the headless front end (contract: CLI.md). Dispatches to one file per command. */
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
    "          [--out overlay.png] [--map map.png] [--save-map map.npy] [--save-raw raw.npy]\n"
    "          [--colormap jet|viridis|inferno|gray|diverging] [--alpha A] [--grayscale]\n"
    "          [--unit LAYER:CHANNEL] [--json]" },
  { "compare", cli_cmd_compare,
    "compare MODEL INPUT [--methods all|m1,m2,...] [--target auto|N] [--layer NAME]\n"
    "          [method options as explain] [--colormap jet|viridis|inferno|gray] [--alpha A]\n"
    "          [--grayscale] [--size PX] [--columns N] --out sheet.png|sheet.pdf|sheet.svg" },
  { "evaluate", cli_cmd_evaluate,
    "evaluate MODEL INPUT... --methods all|m1,... [--metric deletion,insertion,randomization]\n"
    "          [--target auto|N] [--layer NAME] [method options as explain] [--json]" },
  { "train", cli_cmd_train,
    "train --arch model.json --dataset fashion-mnist[:DIR]|mnist:DIR --out RUNDIR --epochs N\n"
    "          [--train-subset N] [--val-subset N] [--batch B] [--optimizer sgd|adam] [--lr LR]\n"
    "          [--momentum M] [--weight-decay WD] [--seed S] [--name NAME] [--resume]" },
  { "bench", cli_cmd_bench,
    "bench MODEL --task forward|saliency|gradcam|smoothgrad|integrated-gradients|scorecam\n"
    "          [--batch B] [--repeat N] [--threads T]" },
  { "run-info", cli_cmd_run_info, "run-info RUNDIR [--json] [--csv]" },
  { "features", cli_cmd_features,
    "features MODEL --layer NAME [--units all|a,b,...] --out sheet.png [--steps N] [--seed S]\n"
    "          [--param fourier|pixel] [--lr LR] [--jitter PX] [--scale S] [--rotate DEG] [--decay L2]\n"
    "          [--blur SIGMA] [--batch B] [--zoom Z] [--json]" },
  { "top-examples", cli_cmd_top_examples,
    "top-examples MODEL --layer NAME --unit K --dataset SPEC [--split test|train] [--top N]\n"
    "          [--out sheet.png] [--reduce max|mean] [--limit N] [--json]" },
};

#define N_COMMANDS ((int) (sizeof commands / sizeof commands[0]))

static void
usage (FILE *fp)
{
  fprintf (fp, "Usage: convscope-cli COMMAND [ARGS...]\n\nCommands:\n");
  for (int i = 0; i < N_COMMANDS; i++)
    fprintf (fp, "  %s\n", commands[i].synopsis);
  fprintf (fp,
           "\nCommon options:\n"
           "  --epoch N            a run directory's checkpoint (default: the last)\n"
           "  --weights F          lay the weights of a .safetensors file over the model\n"
           "  --threads N          compute threads (default: all cores)\n"
           "  --mean a,b,c --std a,b,c | --preset imagenet   input normalisation\n"
           "  --json               machine-readable output on stdout\n"
           "\nMODEL: .onnx, model.json or a run directory. INPUT: PNG/JPEG or .npy (C,H,W).\n"
           "Exit status: 0 success, 1 bad input file or failed computation, 2 usage error.\n");
}

void
cli_command_usage (const char *name)
{
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp (commands[i].name, name) == 0)
      printf ("Usage: convscope-cli %s\n", commands[i].synopsis);
}

int
main (int argc, char **argv)
{
  /* Before any BLAS call: may re-execute us with a better OpenBLAS kernel. */
  cs_blas_select_kernel (argc, argv);

  if (argc < 2)
    {
      usage (stderr);
      return cli_error (CLI_EXIT_USAGE, "convscope-cli", "missing COMMAND");
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
  return cli_error (CLI_EXIT_USAGE, name, "unknown command (try --help)");
}
