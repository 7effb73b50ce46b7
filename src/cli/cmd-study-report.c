/* `convscope-cli study report`: per signal, agreement with each ground truth and the regret of
 * stopping at its onset, fitted on one half of the runs and scored on the other; as text, JSON,
 * a per-run CSV and a figure sheet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/study_figures.h"
#include "analysis/study_report.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cmd-study.h"
#include "io/atomic_file.h"

enum {
  OPT_OUT = CLI_OPT_FIRST_COMMAND,
  OPT_CSV,
};

static const cli_option report_options[] = {
  { "out", true, OPT_OUT },
  { "csv", true, OPT_CSV },
  { NULL, false, 0 },
};

static const char *const half_names[2] = { "fit", "held_out" };

static cJSON *
number (double v)
{
  return isfinite (v) ? cJSON_CreateNumber (v) : cJSON_CreateNull ();
}

static cJSON *
score_json (const cs_study_score *s)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "runs", s->n_runs);
  cJSON_AddNumberToObject (o, "fired", s->n_fired);
  cJSON *truths = cJSON_AddObjectToObject (o, "agreement");
  for (int tr = 0; tr < CS_N_TRUTHS; tr++)
    {
      cJSON *t = cJSON_AddObjectToObject (truths, cs_truth_name ((cs_truth_kind) tr));
      cJSON_AddNumberToObject (t, "runs_with_truth", s->n_truth[tr]);
      for (int k = 0; k < CS_STUDY_TOLERANCES; k++)
        {
          char key[16];
          snprintf (key, sizeof key, "within_%d", k + 1);
          cJSON_AddNumberToObject (t, key, s->within[tr][k]);
        }
      cJSON_AddItemToObject (t, "median_abs_delta", number (s->median_abs_delta[tr]));
    }
  cJSON *ov = cJSON_AddObjectToObject (o, "overfitting_runs");
  cJSON_AddNumberToObject (ov, "runs", s->n_overfit);
  for (int k = 0; k < CS_STUDY_TOLERANCES; k++)
    {
      char key[16];
      snprintf (key, sizeof key, "within_%d", k + 1);
      cJSON_AddNumberToObject (ov, key, s->within_overfit[k]);
    }
  cJSON_AddItemToObject (ov, "median_abs_delta", number (s->median_abs_delta_overfit));
  cJSON *reg = cJSON_AddObjectToObject (o, "regret_points");
  cJSON_AddItemToObject (reg, "val_median", number (s->regret_val_median));
  cJSON_AddItemToObject (reg, "val_mean", number (s->regret_val_mean));
  cJSON_AddItemToObject (reg, "test_median", number (s->regret_test_median));
  cJSON_AddItemToObject (reg, "test_mean", number (s->regret_test_mean));
  return o;
}

static cJSON *
report_json (const cs_study_report *r)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "format", "convscope-study-report/1");
  cJSON_AddStringToObject (root, "fit_truth", cs_truth_name (CS_STUDY_FIT_TRUTH));
  cJSON_AddNumberToObject (root, "n_runs", r->n_runs);
  cJSON_AddNumberToObject (root, "skipped", r->n_skipped);
  cJSON_AddStringToObject (root, "best_signal", cs_signal_name (r->best));
  cJSON *sigs = cJSON_AddArrayToObject (root, "signals");
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      const cs_study_signal *s = &r->signals[k];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", cs_signal_name (s->kind));
      cJSON_AddStringToObject (o, "title", cs_signal_title (s->kind));
      cJSON_AddBoolToObject (o, "fixed_rule", s->fixed_rule);
      cJSON_AddItemToObject (o, "threshold", number (s->threshold));
      for (int h = 0; h < 2; h++)
        cJSON_AddItemToObject (o, half_names[h], score_json (&s->half[h]));
      cJSON_AddItemToArray (sigs, o);
    }
  cJSON *refs = cJSON_AddArrayToObject (root, "reference_stops");
  for (int tr = 0; tr <= CS_N_TRUTHS; tr++)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "stop_at", tr < CS_N_TRUTHS ? cs_truth_name ((cs_truth_kind) tr) : "last-epoch");
      for (int h = 0; h < 2; h++)
        cJSON_AddItemToObject (o, half_names[h], score_json (tr < CS_N_TRUTHS ? &r->truth_stop[tr][h]
                                                                             : &r->never_stop[h]));
      cJSON_AddItemToArray (refs, o);
    }
  cJSON *runs = cJSON_AddArrayToObject (root, "runs");
  for (int32_t i = 0; i < r->n_runs; i++)
    {
      const cs_study_run *run = &r->runs[i];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "dir", run->dir);
      cJSON_AddStringToObject (o, "config", run->config);
      cJSON_AddStringToObject (o, "half", half_names[run->half]);
      cJSON *t = cJSON_AddObjectToObject (o, "truths");
      for (int tr = 0; tr < CS_N_TRUTHS; tr++)
        cJSON_AddItemToObject (t, cs_truth_name ((cs_truth_kind) tr),
                               run->truth[tr] >= 0 ? cJSON_CreateNumber (run->truth[tr]) : cJSON_CreateNull ());
      cJSON *on = cJSON_AddObjectToObject (o, "onsets");
      for (int k = 0; k < CS_N_SIGNALS; k++)
        cJSON_AddItemToObject (on, cs_signal_name ((cs_signal_kind) k),
                               run->onset[k] >= 0 ? cJSON_CreateNumber (run->onset[k]) : cJSON_CreateNull ());
      cJSON_AddItemToArray (runs, o);
    }
  return root;
}

/* One line per run: settings, truths, onsets, and the accuracies at the stops. */
static cs_status
write_csv (const cs_study_report *r, const char *path, cs_error *err)
{
  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    return st;
  fprintf (f.fp, "run,config,half,label_noise,epochs,best_val_accuracy,best_test_accuracy");
  for (int tr = 0; tr < CS_N_TRUTHS; tr++)
    fprintf (f.fp, ",truth_%s", cs_truth_name ((cs_truth_kind) tr));
  for (int k = 0; k < CS_N_SIGNALS; k++)
    fprintf (f.fp, ",onset_%s,val_regret_%s,test_regret_%s", cs_signal_name ((cs_signal_kind) k),
             cs_signal_name ((cs_signal_kind) k), cs_signal_name ((cs_signal_kind) k));
  fprintf (f.fp, "\n");
  for (int32_t i = 0; i < r->n_runs; i++)
    {
      const cs_study_run *run = &r->runs[i];
      int32_t n = run->n_epochs;
      double bv = -INFINITY, bt = -INFINITY;
      for (int32_t t = 1; t < n; t++)
        {
          bv = run->val_accuracy[t] > bv ? run->val_accuracy[t] : bv;
          bt = run->test_accuracy[t] > bt ? run->test_accuracy[t] : bt;
        }
      fprintf (f.fp, "%s,\"%s\",%s,%g,%d,%.4f,%.4f", run->dir, run->config, half_names[run->half], run->label_noise,
               n - 1, bv, bt);
      for (int tr = 0; tr < CS_N_TRUTHS; tr++)
        run->truth[tr] >= 0 ? fprintf (f.fp, ",%d", run->truth[tr]) : fprintf (f.fp, ",");
      for (int k = 0; k < CS_N_SIGNALS; k++)
        {
          int32_t stop = run->onset[k] >= 0 ? run->onset[k] : n - 1;
          run->onset[k] >= 0 ? fprintf (f.fp, ",%d", run->onset[k]) : fprintf (f.fp, ",");
          fprintf (f.fp, ",%.2f,%.2f", 100.0 * (bv - run->val_accuracy[stop]),
                   isfinite (bt) ? 100.0 * (bt - run->test_accuracy[stop]) : NAN);
        }
      fprintf (f.fp, "\n");
    }
  if (ferror (f.fp))
    {
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: write error", path);
    }
  return cs_atomic_commit (&f, err);
}

static void
print_score_line (const char *name, const char *threshold, const cs_study_score *s)
{
  const int tr = CS_STUDY_FIT_TRUTH;
  printf ("  %-18s %-9s %3d/%-3d %3d/%-3d %3d/%-3d %5.1f   %3d/%-3d %5.1f   %5.2f %5.2f  %3d/%d\n", name, threshold,
          s->within[tr][0], s->n_truth[tr], s->within[tr][1], s->n_truth[tr], s->within[tr][2], s->n_truth[tr],
          s->median_abs_delta[tr], s->within_overfit[1], s->n_overfit, s->median_abs_delta_overfit,
          s->regret_val_median, s->regret_test_median, s->n_fired, s->n_runs);
}

static void
print_report (const cs_study_report *r)
{
  printf (_("%s: %d finished runs (%d skipped); thresholds fitted on %d runs, scored on %d held-out runs\n"),
          r->dir, r->n_runs, r->n_skipped, r->signals[0].half[CS_HALF_FIT].n_runs,
          r->signals[0].half[CS_HALF_HELD_OUT].n_runs);
  printf (_("Agreement with the %s epoch; regret: median accuracy points lost (validation, test)\n"),
          cs_truth_name (CS_STUDY_FIT_TRUTH));
  printf (_("ovf: the runs that overfit (that epoch %d or more epochs before the end)\n"), CS_STUDY_OVERFIT_MARGIN);
  for (int h = CS_HALF_HELD_OUT; h >= CS_HALF_FIT; h--)
    {
      printf ("\n%s\n", h == CS_HALF_HELD_OUT ? _("Held-out runs") : _("Fit runs (thresholds chosen here)"));
      printf ("  %-18s %-9s %-7s %-7s %-7s %5s   %-7s %5s   %5s %5s  %s\n", "signal", "threshold", "+-1", "+-2", "+-3",
              "|d|", "ovf+-2", "|d|", "val", "test", "fired");
      for (int k = 0; k < CS_N_SIGNALS; k++)
        {
          const cs_study_signal *s = &r->signals[k];
          char th[32];
          s->fixed_rule ? snprintf (th, sizeof th, "rule") : snprintf (th, sizeof th, "%.3g", s->threshold);
          print_score_line (cs_signal_name (s->kind), th, &s->half[h]);
        }
      for (int tr = 1; tr < CS_N_TRUTHS; tr++)
        print_score_line (cs_truth_name ((cs_truth_kind) tr), "truth", &r->truth_stop[tr][h]);
      print_score_line ("last-epoch", "-", &r->never_stop[h]);
    }
  const cs_study_score *b = &r->signals[r->best].half[CS_HALF_HELD_OUT];
  printf (_("\nBest signal: %s, within +-2 epochs in %d of %d held-out runs (%d of the %d that overfit); "
            "never stopping: %d of %d (%d of %d)\n"),
          cs_signal_name (r->best), b->within[CS_STUDY_FIT_TRUTH][1], b->n_truth[CS_STUDY_FIT_TRUTH],
          b->within_overfit[1], b->n_overfit, r->never_stop[CS_HALF_HELD_OUT].within[CS_STUDY_FIT_TRUTH][1],
          r->never_stop[CS_HALF_HELD_OUT].n_truth[CS_STUDY_FIT_TRUTH], r->never_stop[CS_HALF_HELD_OUT].within_overfit[1],
          r->never_stop[CS_HALF_HELD_OUT].n_overfit);
}

int
cli_study_report (int argc, char **argv)
{
  cli_args args;
  bool help;
  int code = cli_study_parse (argc, argv, "study report", report_options, _("expects one study directory"), &args,
                              &help);
  if (code != CLI_EXIT_OK || help)
    return code;
  if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;
  const char *out = args.values[OPT_OUT];
  cs_error err = { 0 };
  if (out != NULL && cs_study_figures_check (out, &err) != CS_OK)
    return cli_fail (out, &err);
  cs_study_report *r = cs_study_report_compute (args.positional[0], NULL, &err);
  if (r == NULL)
    return cli_fail (args.positional[0], &err);
  if (args.values[OPT_CSV] != NULL && write_csv (r, args.values[OPT_CSV], &err) != CS_OK)
    code = cli_fail (args.values[OPT_CSV], &err);
  if (code == CLI_EXIT_OK && out != NULL && cs_study_figures_write (r, out, &err) != CS_OK)
    code = cli_fail (out, &err);
  if (code == CLI_EXIT_OK)
    {
      if (args.values[CLI_OPT_JSON])
        code = cli_print_json (report_json (r));
      else
        print_report (r);
    }
  cs_study_report_free (r);
  return code;
}
