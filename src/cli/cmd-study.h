/* `convscope-cli study`: run, submit and report a study of training runs (docs/cli/study.md). */
#pragma once

int cli_study_run (int argc, char **argv);
int cli_study_submit (int argc, char **argv);
int cli_study_report (int argc, char **argv);
