/* The study report's figures, drawn with Cairo in the comparison sheet's style: onset scatter
 * (signal against truth), regret distributions, and per-run small multiples of the curves with
 * every signal's mark. One page per figure in a PDF; PNG and SVG stack them on one page. */
#pragma once

#include "analysis/study_report.h"

/* The colour of a signal's marks (RGB in [0, 1]), shared with the app's training chart. */
void cs_signal_color (cs_signal_kind k, double rgb[3]);

/* CS_ERR_ARGUMENT unless path ends in .pdf, .png or .svg (checked before the work). */
cs_status cs_study_figures_check (const char *path, cs_error *err);
/* Writes the figures atomically. */
cs_status cs_study_figures_write (const cs_study_report *r, const char *path, cs_error *err);
