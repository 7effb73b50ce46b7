/* CsSaliencyView's comparison grid: one panel per compared method, each sampling method given
 * a short first look, then continued with the rest of its budget; "refine further" runs a
 * stopped method again without a budget from where it stopped. */
#include "config.h"

#include <adwaita.h>

#include "cs-jobs.h"
#include "cs-saliency-view-private.h"

/* A sampling method's first look in the grid: long enough for one batch of a ResNet-18's
 * (one pass always runs), short enough that all five have a map within ~2 s idle. */
#define FIRST_LOOK_SECONDS 0.25

static void refine_clicked_cb (GtkButton *button, CsSaliencyView *self);

void
cs_saliency_compare_ensure_panels (CsSaliencyView *self)
{
  guint want = self->session != NULL ? cs_session_get_comparison (self->session) : 0;

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      Panel *p = &self->panels[m];
      gboolean wanted = (want & (1u << m)) != 0;

      if (wanted && p->root == NULL)
        {
          cs_saliency_panel_build (p, m, G_CALLBACK (refine_clicked_cb), self);
          cs_compare_grid_append (self->compare_box, p->root);
          self->compare_stale = TRUE;
        }
      else if (!wanted && p->root != NULL)
        {
          cs_compare_grid_remove (self->compare_box, p->root);
          cs_saliency_panel_release (p);
        }
    }
}

/* A best-so-far map from a running job: shown when it is the panel's current job and goes
 * further than the map already there (a refinement continues from where the budget stopped
 * the method). */
static void
panel_partial (gpointer owner, guint serial, const float *map, int width, int height, double fraction)
{
  CsSaliencyView *self = CS_SALIENCY_VIEW (owner);

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      Panel *p = &self->panels[m];
      if (p->root != NULL && p->serial == serial && p->running)
        cs_saliency_panel_show_partial (p, map, width, height, fraction, self->colormap);
    }
}

typedef struct
{
  CsSaliencyView *self;
  int method;
  guint serial;
} CompareCall;

static void run_panel (CsSaliencyView *self, int m, double budget, cs_resume *resume);

/* Queues the continuations of the stopped first looks, the longest expected first (longest
 * processing time first: on ResNet-18 with no budget RISE's ~45 s no longer starts last,
 * behind Score-CAM and occlusion), each from its saved state with what is left of its
 * budget. Resuming is exact: the end results are the one-shot runs'. */
static void
continue_first_looks (CsSaliencyView *self)
{
  if (self->session == NULL)
    return;
  for (;;)
    {
      int next = -1;
      for (int m = 0; m < CS_METHOD_COUNT; m++)
        {
          Panel *p = &self->panels[m];
          if (p->root != NULL && p->waiting && (next < 0 || p->estimate > self->panels[next].estimate))
            next = m;
        }
      if (next < 0)
        return;
      self->panels[next].waiting = FALSE;
      run_panel (self, next, self->panels[next].left, g_steal_pointer (&self->panels[next].resume));
    }
}

/* A first look stopped by its short budget: its map stays as a best-so-far one, and the method
 * waits with its saved state and an estimate of the time it still needs until every first
 * look is done. */
static void
first_look_stopped (CsSaliencyView *self, int m, CsSaliencyResult *r)
{
  Panel *p = &self->panels[m];
  double rest = r->completed > 0 ? r->seconds * (1.0 - r->completed) / r->completed : G_MAXDOUBLE;

  p->spent += r->seconds;
  if (r->map != NULL)
    cs_saliency_panel_show_partial (p, r->map, r->width, r->height, r->completed, self->colormap);
  p->floor = r->completed;
  g_clear_pointer (&p->resume, cs_resume_free);
  p->resume = g_steal_pointer (&r->resume);
  p->estimate = p->left > 0 && p->left < rest ? p->left : rest;
  p->waiting = TRUE;
}

static void
compare_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CompareCall *call = user_data;
  g_autoptr (CsSaliencyView) self = call->self;
  g_autoptr (GError) error = NULL;
  CsSaliencyResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  Panel *p = &self->panels[call->method];
  guint serial = call->serial;
  int m = call->method;
  gboolean look_ended = p->serial == serial && p->first_look;

  g_free (call);
  /* However the panel's current first look ended, the others' continuations must not wait
   * for it. */
  if (look_ended)
    {
      p->first_look = FALSE;
      if (self->n_first_looks > 0)
        self->n_first_looks--;
    }
  if ((r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) || p->root == NULL
      || p->serial != serial)
    {
      g_clear_pointer (&r, cs_saliency_result_free);
      if (look_ended && self->n_first_looks == 0)
        continue_first_looks (self);
      return;
    }
  if (look_ended && r != NULL && r->completed < 1.0 && r->resume != NULL)
    {
      first_look_stopped (self, m, r);
      cs_saliency_result_free (r);
      if (self->n_first_looks == 0)
        continue_first_looks (self);
      return;
    }
  if (look_ended && self->n_first_looks == 0)
    continue_first_looks (self);
  self->n_compared++;
  if (r == NULL)
    cs_saliency_panel_show_error (p, error->message);
  else
    {
      /* The time of the whole chain of runs that made this map. */
      r->seconds += p->spent;
      p->spent = 0;
      cs_saliency_panel_show_result (p, r, self->colormap);
      g_clear_pointer (&p->resume, cs_resume_free);
      p->resume = g_steal_pointer (&r->resume);
      cs_saliency_result_free (r);
    }
}

/* Starts method m's job for the panel; budget < 0: the session's budget. resume: the state
 * to continue from (taken), or NULL to start afresh (the panel's saved state is dropped). */
static void
run_panel (CsSaliencyView *self, int m, double budget, cs_resume *resume)
{
  Panel *p = &self->panels[m];
  char channel[64];
  CsSaliencyJob *job;
  CompareCall *call;

  if (resume == NULL)
    p->spent = 0;

  job = cs_saliency_job_new (self->session, m, cs_session_get_target (self->session));
  if (job == NULL)
    {
      cs_resume_free (resume);
      return;
    }
  g_clear_pointer (&p->resume, cs_resume_free);
  job->resume = resume;
  p->serial = ++self->serial;
  cs_saliency_job_set_refine (job, budget >= 0 ? budget : cs_session_get_attribution_budget (self->session),
                              panel_partial, G_OBJECT (self), p->serial);
  call = g_new0 (CompareCall, 1);
  call->self = g_object_ref (self);
  call->method = m;
  call->serial = p->serial;
  g_snprintf (channel, sizeof channel, "%s%d", self->compare_prefix, m);
  /* Long jobs: the window's progress bar follows the grid filling in. */
  cs_worker_run (cs_session_get_worker (self->session), channel, TRUE, cs_saliency_job_run,
                 job, cs_saliency_job_free, cs_saliency_result_free, compare_done, call);
}

/* "Refine further": the method again without a budget, continuing from the stopped run's
 * state (every sampling method saves one); the map on screen stays until the new
 * run's estimate goes further than it. */
void
cs_saliency_view_refine_further (CsSaliencyView *self, int m)
{
  Panel *p;

  g_return_if_fail (m >= 0 && m < CS_METHOD_COUNT);
  p = &self->panels[m];
  if (self->session == NULL || p->root == NULL || p->running || p->completed >= 1.0)
    return;
  p->floor = p->completed;
  p->spent = p->seconds; /* the refinement's time adds to the stopped runs' */
  p->first_look = FALSE;
  gtk_widget_set_visible (p->refine, FALSE);
  cs_saliency_panel_set_running (p, TRUE, 0);
  self->n_compared--;
  run_panel (self, m, 0, g_steal_pointer (&p->resume));
}

static void
refine_clicked_cb (GtkButton *button, CsSaliencyView *self)
{
  cs_saliency_view_refine_further (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "method")));
}

void
cs_saliency_compare_run (CsSaliencyView *self)
{
  GdkTexture *image;
  double budget;

  if (self->session == NULL || cs_session_get_model_set (self->session) == NULL)
    return;
  cs_saliency_compare_ensure_panels (self);
  self->compare_stale = FALSE;
  self->n_compared = 0;
  self->n_first_looks = 0;
  image = cs_session_get_image (self->session);
  budget = cs_session_get_attribution_budget (self->session);
  /* The one-pass methods first: their maps are on screen while the sampling ones refine.
   * Each sampling method first gets a short look (FIRST_LOOK_SECONDS of its budget), so that
   * every cell has a map early, then continues (continue_first_looks). */
  for (int pass = 0; pass < 2; pass++)
    for (int m = 0; m < CS_METHOD_COUNT; m++)
      {
        Panel *p = &self->panels[m];
        gboolean look = pass == 1 && (budget == 0 || budget > FIRST_LOOK_SECONDS);

        if (p->root == NULL || cs_method_is_sampling (m) != (pass == 1))
          continue;
        cs_saliency_panel_clear (p);
        gtk_picture_set_paintable (GTK_PICTURE (p->image), GDK_PAINTABLE (image));
        run_panel (self, m, look ? FIRST_LOOK_SECONDS : -1, NULL);
        p->first_look = look;
        p->waiting = FALSE;
        self->n_first_looks += look ? 1 : 0;
        p->left = budget == 0 ? 0 : budget - FIRST_LOOK_SECONDS; /* 0: no budget, to the end */
      }
}
