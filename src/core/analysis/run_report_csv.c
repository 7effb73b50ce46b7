/* The run-info CSV: one row per epoch and layer, what run-info --csv prints and the app's CSV
 * export writes. */
#include "analysis/run_analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "%.9g", or nothing for an undefined value. */
static void
field (FILE *fp, double v)
{
  fputc (',', fp);
  if (isfinite (v))
    fprintf (fp, "%.9g", v);
}

/* Free text (node names, reasons) quoted as RFC 4180 says. */
static void
quoted (FILE *fp, const char *text)
{
  fputc ('"', fp);
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"')
        fputc ('"', fp);
      fputc (*c, fp);
    }
  fputc ('"', fp);
}

char *
cs_run_report_csv (const cs_run_analysis *a, cs_error *err)
{
  char *text = NULL;
  size_t size = 0;
  FILE *fp = open_memstream (&text, &size);
  if (fp == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory for the run-info CSV");
      return NULL;
    }
  const cs_run_stats *s = a->stats;
  fputs ("epoch,layer,op", fp);
  for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
    fprintf (fp, ",%s", cs_run_stats_series_names[c]);
  fputs (",train_loss,val_loss,generalization_gap,checkpoint_error\n", fp);
  for (int32_t e = 0; e < s->n_epochs; e++)
    for (int32_t l = 0; l < s->n_layers; l++)
      {
        const cs_layer_series *ls = &s->layers[l];
        const cs_run_epoch *re = &a->run->epochs[e];
        fprintf (fp, "%d,", s->epochs[e]);
        quoted (fp, ls->name);
        fprintf (fp, ",%s", ls->op);
        double *series[CS_RUN_STATS_N_SERIES];
        cs_run_stats_series (ls, series);
        for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
          field (fp, series[c][e]);
        field (fp, re->train_loss);
        field (fp, re->val_loss);
        field (fp, a->gap[e]);
        fputc (',', fp);
        if (s->checkpoint_error[e] != NULL)
          quoted (fp, s->checkpoint_error[e]);
        fputc ('\n', fp);
      }
  if (fclose (fp) != 0 || text == NULL)
    {
      free (text);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory for the run-info CSV");
      return NULL;
    }
  return text;
}
