/* Runs `convscope-cli run-info` without the rest of the CLI: argv[1..] are its arguments. */
#include "cmd-run-info.h"

int
main (int argc, char **argv)
{
  return cli_cmd_run_info (argc - 1, argv + 1);
}
