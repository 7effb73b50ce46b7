/* Worker jobs: batched prediction, and attribution through cs_attribution_run_refined, whose
 * best-so-far maps are posted to the main loop. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-jobs.h"

#include "base/softmax.h"

CsPredictJob *
cs_predict_job_new (CsModelSet *set, int epoch, GBytes *inputs, const cs_shape *shape, int n)
{
  CsPredictJob *job = g_new0 (CsPredictJob, 1);

  job->set = cs_model_set_ref (set);
  job->epoch = epoch;
  job->inputs = g_bytes_ref (inputs);
  job->shape = *shape;
  job->n = n;
  return job;
}

void
cs_predict_job_free (gpointer data)
{
  CsPredictJob *job = data;

  g_clear_pointer (&job->set, cs_model_set_unref);
  g_clear_pointer (&job->inputs, g_bytes_unref);
  g_free (job);
}

void
cs_predict_result_free (gpointer data)
{
  CsPredictResult *r = data;

  g_free (r->probs);
  g_free (r);
}

/* Overflowing weights or inputs give NaN/infinite logits: an error saying so (the CLI's words),
 * never a "nan %" prediction. */
static gboolean
outputs_finite (const float *v, gint64 n, GError **error)
{
  gint64 bad = cs_count_nonfinite (v, n);

  if (bad > 0)
    g_set_error (error, CS_CORE_ERROR, CS_ERR_FORMAT,
                 _("%lld of the model's %lld outputs are NaN or infinite "
                   "(its weights or the input overflow float32)"),
                 (long long) bad, (long long) n);
  return bad == 0;
}

gpointer
cs_predict_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsPredictJob *job = data;
  cs_exec *e = cs_worker_job_get_exec (wjob, job->set, job->epoch, error);
  const cs_graph *g = cs_model_set_get_graph (job->set);
  int64_t sample = cs_shape_numel (&job->shape);
  const float *all = g_bytes_get_data (job->inputs, NULL);
  CsPredictResult *r;
  int batch, k;

  if (e == NULL)
    return NULL;
  k = (int) cs_shape_numel (&g->nodes[g->output_node].shape);
  batch = cs_exec_max_batch (e);
  r = g_new0 (CsPredictResult, 1);
  r->n = job->n;
  r->n_classes = k;
  r->probs = g_new0 (float, (gsize) job->n * k);

  for (int start = 0; start < job->n; start += batch)
    {
      int nb = MIN (batch, job->n - start);
      cs_shape s = job->shape;
      cs_tensor in;
      const cs_tensor *out;
      cs_error err = { 0 };

      if (cs_worker_job_is_cancelled (wjob))
        {
          cs_predict_result_free (r);
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
          return NULL;
        }
      s.dim[0] = nb;
      in = cs_tensor_view (&s, (float *) all + start * sample);
      if (cs_exec_forward (e, &in, &err) != CS_OK)
        {
          cs_set_core_error (error, &err);
          cs_predict_result_free (r);
          return NULL;
        }
      out = cs_exec_value (e, g->output_node);
      if (!outputs_finite (out->data, (gint64) nb * k, error))
        {
          cs_predict_result_free (r);
          return NULL;
        }
      for (int i = 0; i < nb; i++)
        cs_softmax (out->data + (gsize) i * k, k, r->probs + (gsize) (start + i) * k);
      cs_worker_job_set_fraction (wjob, (double) (start + nb) / job->n);
    }
  return r;
}

void
cs_predict_result_top (const CsPredictResult *r, int i, int k, int *classes)
{
  const float *p = r->probs + (gsize) i * r->n_classes;

  for (int j = 0; j < k; j++)
    {
      int best = -1;
      for (int c = 0; c < r->n_classes; c++)
        {
          gboolean taken = FALSE;
          for (int q = 0; q < j; q++)
            taken |= classes[q] == c;
          if (!taken && (best < 0 || p[c] > p[best]))
            best = c;
        }
      classes[j] = best;
    }
}

gboolean
cs_saliency_method_explains_units (int method)
{
  return method != CS_METHOD_OCCLUSION && method != CS_METHOD_RISE && method != CS_METHOD_SCORECAM;
}

CsSaliencyJob *
cs_saliency_job_new (CsSession *session, int method, int target)
{
  CsSaliencyJob *job;
  CsModelSet *set = cs_session_get_model_set (session);
  cs_shape shape;
  GBytes *input;

  if (set == NULL || (input = cs_session_dup_input_bytes (session, &shape)) == NULL)
    return NULL;
  job = g_new0 (CsSaliencyJob, 1);
  job->set = cs_model_set_ref (set);
  job->epoch = cs_session_get_epoch (session);
  job->input = input;
  job->shape = shape;
  /* Samples, steps and windows come from the preferences through the session. */
  cs_session_get_attribution_params (session, method, &job->params);
  job->params.target = target;
  job->params.layer = cs_session_spatial_layer (session, cs_session_get_layer (session));
  /* A unit is explained by the gradient methods; perturbation methods keep the class. */
  if (cs_session_get_explain_unit (session) && cs_session_get_unit (session) >= 0
      && cs_session_get_layer (session) >= 0 && cs_saliency_method_explains_units (method))
    {
      job->params.unit_layer = cs_session_get_layer (session);
      job->params.unit_channel = cs_session_get_unit (session);
      job->params.layer = -1;  /* CAM: the last spatial layer before the unit */
    }
  return job;
}

void
cs_saliency_job_set_refine (CsSaliencyJob *job, double budget, CsSaliencyPartialFunc partial,
                            GObject *owner, guint serial)
{
  job->budget = budget;
  job->partial = partial;
  g_set_object (&job->owner, owner);
  job->serial = serial;
}

void
cs_saliency_job_free (gpointer data)
{
  CsSaliencyJob *job = data;

  g_clear_object (&job->owner);
  g_clear_pointer (&job->set, cs_model_set_unref);
  g_clear_pointer (&job->input, g_bytes_unref);
  g_clear_pointer (&job->resume, cs_resume_free);
  g_free (job);
}

void
cs_saliency_result_free (gpointer data)
{
  CsSaliencyResult *r = data;

  g_free (r->map);
  g_clear_pointer (&r->resume, cs_resume_free);
  g_free (r);
}

const char *
cs_ui_method_title (int method)
{
  /* The core's titles are English; these are the ones a translation may change (the others
   * are names: Grad-CAM, SmoothGrad, RISE…), marked here so that _() below finds them. */
  static const char *const translated[] G_GNUC_UNUSED = {
    N_("Saliency"), N_("Guided Backpropagation"), N_("DeconvNet"), N_("Gradient × Input"),
    N_("SmoothGrad"), N_("Integrated Gradients"), N_("Grad-CAM"), N_("Grad-CAM++"),
    N_("Guided Grad-CAM"), N_("Score-CAM"), N_("Layer-CAM"), N_("Occlusion"), N_("RISE"),
  };

  return _(cs_method_title (method));
}

/* A partial map on its way from the worker to the main thread. */
typedef struct
{
  CsSaliencyPartialFunc func;
  GObject *owner;
  guint serial;
  int width, height;
  double fraction;
  float map[];
} PartialMessage;

static gboolean
deliver_partial (gpointer data)
{
  PartialMessage *msg = data;

  msg->func (msg->owner, msg->serial, msg->map, msg->width, msg->height, msg->fraction);
  return G_SOURCE_REMOVE;
}

static void
partial_message_free (gpointer data)
{
  PartialMessage *msg = data;

  g_object_unref (msg->owner);
  g_free (msg);
}

/* Worker thread: copies the estimate and posts it to the main loop, at most every 100 ms
 * (a small model refines far faster than anyone can look). */
static void
job_partial_cb (void *user_data, const cs_tensor *map, double fraction)
{
  CsSaliencyJob *job = user_data;
  gint64 now = g_get_monotonic_time ();
  PartialMessage *msg;
  gsize n = (gsize) cs_tensor_numel (map);

  if (now - job->last_partial < 100 * 1000)
    return;
  job->last_partial = now;
  msg = g_malloc (sizeof *msg + n * sizeof (float));
  msg->func = job->partial;
  msg->owner = g_object_ref (job->owner);
  msg->serial = job->serial;
  msg->height = (int) map->shape.dim[0];
  msg->width = (int) map->shape.dim[1];
  msg->fraction = fraction;
  memcpy (msg->map, map->data, n * sizeof (float));
  /* Always an idle, never g_main_context_invoke: from this thread that calls the function here
   * whenever the default context is free to acquire (between the main thread's iterations, as
   * in the tests' spin loops), and the panel's GtkPicture then drops its texture under the main
   * thread drawing or replacing it. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, deliver_partial, msg, partial_message_free);
}

gpointer
cs_saliency_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsSaliencyJob *job = data;
  cs_refine refine = { .budget_seconds = job->budget };
  cs_exec *e = cs_worker_job_get_exec (wjob, job->set, job->epoch, error);
  cs_attribution a = { 0 };
  cs_error err = { 0 };
  CsSaliencyResult *r;
  cs_tensor in;

  if (e == NULL)
    return NULL;
  in = cs_tensor_view (&job->shape, (float *) g_bytes_get_data (job->input, NULL));
  /* a budget-stopped run saves its state here, for "refine further" to continue from */
  if (job->resume == NULL && job->budget > 0)
    job->resume = cs_resume_new ();
  refine.resume = job->resume;
  if (job->partial != NULL && job->owner != NULL)
    {
      refine.partial = job_partial_cb;
      refine.user_data = job;
    }
  if (cs_attribution_run_refined (e, &in, &job->params, cs_worker_job_get_progress (wjob), &refine, &a,
                                  &err) != CS_OK)
    {
      if (err.code == CS_ERR_CANCELLED)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      else
        cs_set_core_error (error, &err);
      return NULL;
    }
  if (!isfinite (a.target_probability))
    {
      g_set_error_literal (error, CS_CORE_ERROR, CS_ERR_FORMAT,
                           _("The model's outputs are NaN or infinite (its weights or the input overflow float32)"));
      cs_attribution_free (&a);
      return NULL;
    }
  r = g_new0 (CsSaliencyResult, 1);
  if (cs_resume_completed (job->resume) > 0)
    r->resume = g_steal_pointer (&job->resume);
  r->method = job->params.method;
  r->height = (int) a.map.shape.dim[0];
  r->width = (int) a.map.shape.dim[1];
  r->map = g_memdup2 (a.map.data, (gsize) r->width * r->height * sizeof (float));
  r->target = a.target;
  r->probability = a.target_probability;
  r->layer = a.layer;
  r->unit_layer = job->params.unit_layer;
  r->unit_channel = job->params.unit_channel;
  r->seconds = a.seconds;
  r->completed = a.completed;
  r->passes = a.passes;
  cs_attribution_free (&a);
  return r;
}

