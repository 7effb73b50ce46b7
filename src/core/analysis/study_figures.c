/* Study figures: scatter, regret strips and small multiples, on Cairo surfaces. */
#include "analysis/study_figures.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render/figure_file.h"
#include "render/sheet.h"

/* The comparison sheet's measures (render/sheet.c). */
#define MARGIN 16.0
#define TITLE_SIZE 13.0
#define TEXT_SIZE 10.5
#define SHEET_TITLE_SIZE 15.0
#define PAGE_W 860.0
#define SCATTER_COLS 4
#define CELL 200.0
#define MULTIPLE_COLS 5
#define MULTIPLE_W 164.0
#define MULTIPLE_H 96.0
#define MAX_MULTIPLES 60

static const char *const font = "sans-serif";

static const double palette[CS_N_SIGNALS][3] = {
  { 0.84, 0.15, 0.16 }, { 0.12, 0.47, 0.71 }, { 0.17, 0.63, 0.17 }, { 1.00, 0.50, 0.05 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
};

void
cs_signal_color (cs_signal_kind k, double rgb[3])
{
  int i = k >= 0 && k < CS_N_SIGNALS ? (int) k : 0;
  memcpy (rgb, palette[i], sizeof palette[i]);
}

static void
text_at (cairo_t *cr, const char *text, double x, double y, double size, bool bold)
{
  cairo_select_font_face (cr, font, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static void
set_signal_color (cairo_t *cr, int k)
{
  cairo_set_source_rgb (cr, palette[k][0], palette[k][1], palette[k][2]);
}

/* Figure 1: per signal, its onset against the fit truth; held-out runs filled, fit runs hollow.
 * "never" is drawn on a line above the axis. */
static double
draw_scatter (cairo_t *cr, const cs_study_report *r, double y0)
{
  char buf[256];
  int32_t epochs = r->runs[0].n_epochs - 1;
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  snprintf (buf, sizeof buf, "Onset against the %s epoch (filled: held-out runs; hollow: fit runs; band: +-2)",
            cs_truth_name (CS_STUDY_FIT_TRUTH));
  text_at (cr, buf, MARGIN, y0 + TITLE_SIZE, TITLE_SIZE, true);
  y0 += TITLE_SIZE + 10;
  double plot = CELL - 46;
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      double cx = MARGIN + (k % SCATTER_COLS) * CELL + 30, cy = y0 + (k / SCATTER_COLS) * (CELL + 6) + 24;
      const cs_study_signal *s = &r->signals[k];
      const cs_study_score *h = &s->half[CS_HALF_HELD_OUT];
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      snprintf (buf, sizeof buf, "%s  %d/%d, overfit %d/%d", cs_signal_name (s->kind), h->within[CS_STUDY_FIT_TRUTH][1],
                h->n_truth[CS_STUDY_FIT_TRUTH], h->within_overfit[1], h->n_overfit);
      text_at (cr, buf, cx - 26, cy - 10, TEXT_SIZE, false);
      /* The +-2 band around the diagonal, the frame. */
      cairo_set_source_rgb (cr, 0.92, 0.92, 0.92);
      cairo_move_to (cr, cx, cy + plot - plot * 2.0 / epochs);
      cairo_line_to (cr, cx + plot - plot * 2.0 / epochs, cy);
      cairo_line_to (cr, cx + plot, cy);
      cairo_line_to (cr, cx + plot, cy + plot * 2.0 / epochs);
      cairo_line_to (cr, cx + plot * 2.0 / epochs, cy + plot);
      cairo_line_to (cr, cx, cy + plot);
      cairo_close_path (cr);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
      cairo_set_line_width (cr, 0.75);
      cairo_rectangle (cr, cx, cy, plot, plot);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      text_at (cr, "0", cx - 3, cy + plot + 11, 8, false);
      snprintf (buf, sizeof buf, "%d", epochs);
      text_at (cr, buf, cx + plot - 8, cy + plot + 11, 8, false);
      text_at (cr, buf, cx - 18, cy + 8, 8, false);
      text_at (cr, "none", cx - 26, cy - 1, 7, false);
      for (int32_t i = 0; i < r->n_runs; i++)
        {
          const cs_study_run *run = &r->runs[i];
          int32_t t = run->truth[CS_STUDY_FIT_TRUTH], o = run->onset[k];
          if (t < 0)
            continue;
          /* Deterministic jitter so that equal pairs stay visible. */
          double j = ((i * 37) % 7 - 3) * 0.6;
          double x = cx + plot * t / epochs + j, y = o >= 0 ? cy + plot - plot * o / epochs + j : cy - 4;
          set_signal_color (cr, k);
          cairo_new_path (cr);
          cairo_arc (cr, x, y, 2.4, 0, 2 * M_PI);
          if (run->half == CS_HALF_HELD_OUT)
            cairo_fill (cr);
          else
            {
              cairo_set_line_width (cr, 0.8);
              cairo_stroke (cr);
            }
        }
    }
  return y0 + ((CS_N_SIGNALS + SCATTER_COLS - 1) / SCATTER_COLS) * (CELL + 6) + 10;
}

/* Figure 2: held-out test-accuracy regret per run, one strip per signal and reference stop. */
static double
draw_regret (cairo_t *cr, const cs_study_report *r, double y0)
{
  char buf[256];
  double max = 1.0;
  for (int32_t i = 0; i < r->n_runs; i++)
    for (int32_t t = 1; t < r->runs[i].n_epochs; t++)
      {
        double best = 0;
        for (int32_t u = 1; u < r->runs[i].n_epochs; u++)
          best = fmax (best, r->runs[i].test_accuracy[u]);
        if (isfinite (best - r->runs[i].test_accuracy[t]))
          max = fmax (max, 100 * (best - r->runs[i].test_accuracy[t]));
      }
  max = fmin (max, 40.0);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  text_at (cr, "Regret of stopping at the onset: test accuracy points lost against the best epoch "
               "(held-out runs; bar: median)", MARGIN, y0 + TITLE_SIZE, TITLE_SIZE, true);
  y0 += TITLE_SIZE + 14;
  double x0 = MARGIN + 130, w = PAGE_W - x0 - MARGIN - 20, row = 18;
  for (int k = 0; k < CS_N_SIGNALS + 2; k++)
    {
      double y = y0 + k * row + row / 2;
      bool is_signal = k < CS_N_SIGNALS;
      const char *name = is_signal ? cs_signal_name ((cs_signal_kind) k) : k == CS_N_SIGNALS ? "stop at GL2" : "last epoch";
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      text_at (cr, name, MARGIN, y + 4, TEXT_SIZE, false);
      cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
      cairo_set_line_width (cr, 0.5);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x0 + w, y);
      cairo_stroke (cr);
      for (int32_t i = 0; i < r->n_runs; i++)
        {
          const cs_study_run *run = &r->runs[i];
          if (run->half != CS_HALF_HELD_OUT)
            continue;
          int32_t o = is_signal ? run->onset[k] : k == CS_N_SIGNALS ? run->truth[CS_TRUTH_GL] : -1;
          int32_t stop = o >= 0 ? o : run->n_epochs - 1;
          double best = 0;
          for (int32_t u = 1; u < run->n_epochs; u++)
            best = fmax (best, run->test_accuracy[u]);
          double v = 100 * (best - run->test_accuracy[stop]);
          if (!isfinite (v))
            continue;
          if (is_signal)
            set_signal_color (cr, k);
          else
            cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
          cairo_new_path (cr);
          cairo_arc (cr, x0 + w * fmin (v, max) / max, y + ((i * 13) % 5 - 2) * 1.2, 2.0, 0, 2 * M_PI);
          cairo_fill (cr);
        }
      const cs_study_score *s = is_signal ? &r->signals[k].half[CS_HALF_HELD_OUT]
                                : k == CS_N_SIGNALS ? &r->truth_stop[CS_TRUTH_GL][CS_HALF_HELD_OUT]
                                                    : &r->never_stop[CS_HALF_HELD_OUT];
      if (isfinite (s->regret_test_median))
        {
          cairo_set_source_rgb (cr, 0, 0, 0);
          cairo_set_line_width (cr, 1.5);
          double xm = x0 + w * fmin (s->regret_test_median, max) / max;
          cairo_move_to (cr, xm, y - 6);
          cairo_line_to (cr, xm, y + 6);
          cairo_stroke (cr);
        }
    }
  double ya = y0 + (CS_N_SIGNALS + 2) * row + 12;
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  for (int t = 0; t <= 4; t++)
    {
      snprintf (buf, sizeof buf, "%.0f", max * t / 4);
      text_at (cr, buf, x0 + w * t / 4 - 4, ya, 9, false);
    }
  return ya + 16;
}

/* One run's panel: training and validation loss (scaled to the panel), the truth (dashed) and a
 * tick per signal onset, in its colour, along the top. */
static void
draw_multiple (cairo_t *cr, const cs_study_run *run, double x, double y)
{
  int32_t n = run->n_epochs;
  double w = MULTIPLE_W - 8, h = MULTIPLE_H - 30, top = y + 22, max = 0;
  for (int32_t t = 1; t < n; t++)
    max = fmax (max, fmax (isfinite (run->train_loss[t]) ? run->train_loss[t] : 0, run->val_loss[t]));
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  char buf[160];
  snprintf (buf, sizeof buf, "%s%s", run->dir, run->half == CS_HALF_HELD_OUT ? " (held out)" : "");
  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, 22);
  cairo_clip (cr);
  text_at (cr, buf, x, y + 9, 8.5, true);
  text_at (cr, run->config, x, y + 19, 6.0, false);
  cairo_restore (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 0.5);
  cairo_rectangle (cr, x, top, w, h);
  cairo_stroke (cr);
  const double *series[2] = { run->train_loss, run->val_loss };
  for (int s = 0; s < 2 && max > 0; s++)
    {
      cairo_set_source_rgb (cr, s == 0 ? 0.55 : 0.05, s == 0 ? 0.55 : 0.05, s == 0 ? 0.55 : 0.05);
      cairo_set_line_width (cr, s == 0 ? 0.8 : 1.2);
      bool started = false;
      for (int32_t t = 1; t < n; t++)
        {
          if (!isfinite (series[s][t]))
            continue;
          double px = x + w * t / (n - 1), py = top + h - h * series[s][t] / max;
          started ? cairo_line_to (cr, px, py) : cairo_move_to (cr, px, py);
          started = true;
        }
      cairo_stroke (cr);
    }
  int32_t tr = run->truth[CS_STUDY_FIT_TRUTH];
  if (tr >= 0)
    {
      double dash[] = { 2.0, 2.0 };
      cairo_set_dash (cr, dash, 2, 0);
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_move_to (cr, x + w * tr / (n - 1), top);
      cairo_line_to (cr, x + w * tr / (n - 1), top + h);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  for (int k = 0; k < CS_N_SIGNALS; k++)
    if (run->onset[k] >= 0)
      {
        double px = x + w * run->onset[k] / (n - 1);
        set_signal_color (cr, k);
        cairo_set_line_width (cr, 1.6);
        cairo_move_to (cr, px, top + 1 + k * 2.2);
        cairo_line_to (cr, px, top + 5 + k * 2.2);
        cairo_stroke (cr);
      }
}

static double
draw_legend (cairo_t *cr, double y)
{
  double x = MARGIN;
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      set_signal_color (cr, k);
      cairo_rectangle (cr, x, y - 8, 10, 8);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      text_at (cr, cs_signal_name ((cs_signal_kind) k), x + 13, y, 9, false);
      x += 104;
    }
  return y + 8;
}

static double
draw_multiples (cairo_t *cr, const cs_study_report *r, double y0)
{
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  text_at (cr, "Runs: validation loss (black), training loss (grey), the truth (dashed), signal onsets (ticks)",
           MARGIN, y0 + TITLE_SIZE, TITLE_SIZE, true);
  y0 = draw_legend (cr, y0 + TITLE_SIZE + 18) + 4;
  int32_t shown = 0;
  /* Held-out runs first: they are the ones the figures score. */
  for (int h = CS_HALF_HELD_OUT; h >= CS_HALF_FIT; h--)
    for (int32_t i = 0; i < r->n_runs && shown < MAX_MULTIPLES; i++)
      if (r->runs[i].half == (cs_study_half) h)
        {
          draw_multiple (cr, &r->runs[i], MARGIN + (shown % MULTIPLE_COLS) * (MULTIPLE_W + 2),
                         y0 + (shown / MULTIPLE_COLS) * (MULTIPLE_H + 4));
          shown++;
        }
  return y0 + ((shown + MULTIPLE_COLS - 1) / MULTIPLE_COLS) * (MULTIPLE_H + 4) + MARGIN;
}

static double
draw_header (cairo_t *cr, const cs_study_report *r, double y)
{
  char buf[512];
  const cs_study_score *b = &r->signals[r->best].half[CS_HALF_HELD_OUT];
  cairo_set_source_rgb (cr, 0.05, 0.05, 0.05);
  snprintf (buf, sizeof buf, "Study %s: %d runs (%d fit, %d held out)", r->dir, r->n_runs,
            r->signals[0].half[CS_HALF_FIT].n_runs, b->n_runs);
  text_at (cr, buf, MARGIN, y + SHEET_TITLE_SIZE, SHEET_TITLE_SIZE, true);
  snprintf (buf, sizeof buf, "Best signal on held-out runs: %s, within +-2 epochs of the %s epoch in %d of %d runs",
            cs_signal_name (r->best), cs_truth_name (CS_STUDY_FIT_TRUTH), b->within[CS_STUDY_FIT_TRUTH][1],
            b->n_truth[CS_STUDY_FIT_TRUTH]);
  text_at (cr, buf, MARGIN, y + SHEET_TITLE_SIZE + 16, TEXT_SIZE, false);
  const cs_study_score *nv = &r->never_stop[CS_HALF_HELD_OUT];
  snprintf (buf, sizeof buf, "On the %d held-out runs that overfit (best epoch %d+ before the end): %s %d, never "
            "stopping %d. Never stopping agrees in %d of %d runs.", b->n_overfit, CS_STUDY_OVERFIT_MARGIN,
            cs_signal_name (r->best), b->within_overfit[1], nv->within_overfit[1], nv->within[CS_STUDY_FIT_TRUTH][1],
            nv->n_truth[CS_STUDY_FIT_TRUTH]);
  text_at (cr, buf, MARGIN, y + SHEET_TITLE_SIZE + 31, TEXT_SIZE, false);
  return y + SHEET_TITLE_SIZE + 45;
}

cs_status
cs_study_figures_check (const char *path, cs_error *err)
{
  cs_sheet_format f;
  return cs_sheet_format_from_path (path, &f, err);
}

/* The pages: header and scatter; regret; small multiples. A PDF gets one page each. */
static double
draw_all (cairo_t *cr, const cs_study_report *r, bool pages, double heights[3])
{
  double y = MARGIN;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  y = draw_scatter (cr, r, draw_header (cr, r, y));
  heights[0] = y;
  if (pages)
    {
      cairo_show_page (cr);
      y = MARGIN;
    }
  y = draw_regret (cr, r, y);
  heights[1] = y;
  if (pages)
    {
      cairo_show_page (cr);
      y = MARGIN;
    }
  y = draw_multiples (cr, r, y);
  heights[2] = y;
  return y;
}

/* What the figure writer hands back to draw_pages. */
typedef struct
{
  const cs_study_report *r;
  bool pages;
} study_drawing;

static cs_status
draw_pages (cairo_t *cr, const void *data, cs_error *err)
{
  (void) err;
  const study_drawing *d = data;
  double heights[3];
  draw_all (cr, d->r, d->pages, heights);
  return CS_OK;
}

cs_status
cs_study_figures_write (const cs_study_report *r, const char *path, cs_error *err)
{
  cs_sheet_format format;
  cs_status st = cs_sheet_format_from_path (path, &format, err);
  if (st != CS_OK)
    return st;
  /* Measure on a recording surface, then draw for real. */
  double heights[3];
  cairo_surface_t *rec = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
  cairo_t *cr = cairo_create (rec);
  double total = draw_all (cr, r, false, heights);
  cairo_destroy (cr);
  cairo_surface_destroy (rec);
  /* A PDF gets a page per figure, as tall as the tallest. */
  double page = fmax (heights[0], fmax (heights[1] - heights[0], heights[2] - heights[1])) + MARGIN;
  study_drawing d = { r, format == CS_SHEET_PDF };
  return cs_figure_write (path, format, PAGE_W, ceil (total), page, "figures", draw_pages, &d, err);
}
