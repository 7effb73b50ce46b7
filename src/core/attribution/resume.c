/* The resumable state of a budget-stopped attribution: what "refine further" continues from.
 * It remembers what it belongs to (model, input, method, parameters, target) and is only
 * used by a run of exactly that. */
#include <stdlib.h>
#include <string.h>

#include "attribution/method.h"

struct cs_resume {
  bool full;
  cs_attribution_params p;   /* with the defaults filled in */
  int32_t target;
  const cs_model *model;
  const void *weights;       /* the first parameter's data: new weights, another run */
  cs_tensor input;           /* a copy */
  cs_resume_work work;       /* floats and doubles owned */
};

cs_resume *
cs_resume_new (void)
{
  return calloc (1, sizeof (cs_resume));
}

static void
empty (cs_resume *r)
{
  cs_tensor_free (&r->input);
  cs_free_floats (r->work.floats);
  free (r->work.doubles);
  memset (r, 0, sizeof *r);
}

void
cs_resume_free (cs_resume *r)
{
  if (r == NULL)
    return;
  empty (r);
  free (r);
}

double
cs_resume_completed (const cs_resume *r)
{
  return r != NULL && r->full && r->work.total > 0 ? (double) r->work.done / (double) r->work.total : 0;
}

static const void *
first_weights (const cs_model *m)
{
  return m->graph->n_params > 0 ? (const void *) m->weights[0].data : NULL;
}

static bool
same_params (const cs_attribution_params *a, const cs_attribution_params *b)
{
  return a->method == b->method && a->layer == b->layer && a->unit_layer == b->unit_layer
         && a->unit_channel == b->unit_channel && a->samples == b->samples && a->noise == b->noise
         && a->steps == b->steps && a->baseline == b->baseline && a->window == b->window
         && a->stride == b->stride && a->seed == b->seed && a->full_forwards == b->full_forwards;
}

static cs_resume *
state_of (const cs_method_ctx *ctx)
{
  return ctx->refine != NULL ? ctx->refine->resume : NULL;
}

const cs_resume_work *
cs_method_resume_find (const cs_method_ctx *ctx)
{
  cs_resume *r = state_of (ctx);
  if (r == NULL || !r->full)
    return NULL;
  bool same = r->model == ctx->model && r->weights == first_weights (ctx->model)
              && r->target == ctx->target && same_params (&r->p, ctx->p)
              && cs_shape_equal (&r->input.shape, &ctx->input->shape)
              && memcmp (r->input.data, ctx->input->data,
                         (size_t) cs_tensor_numel (ctx->input) * sizeof (float)) == 0;
  if (!same)
    {
      empty (r);
      return NULL;
    }
  return &r->work;
}

void
cs_method_resume_clear (const cs_method_ctx *ctx)
{
  cs_resume *r = state_of (ctx);
  if (r != NULL)
    empty (r);
}

cs_status
cs_method_resume_save (const cs_method_ctx *ctx, const cs_resume_work *w, cs_error *err)
{
  cs_resume *r = state_of (ctx);
  if (r == NULL)
    return CS_OK;
  /* w may point into r itself (a resumed run saving again): copy before emptying */
  cs_resume next = { .full = true, .p = *ctx->p, .target = ctx->target, .model = ctx->model,
                     .weights = first_weights (ctx->model), .work = *w };
  next.work.floats = w->n_floats > 0 ? cs_alloc_floats (w->n_floats) : NULL;
  next.work.doubles = w->n_doubles > 0 ? malloc ((size_t) w->n_doubles * sizeof (double)) : NULL;
  if ((w->n_floats > 0 && next.work.floats == NULL) || (w->n_doubles > 0 && next.work.doubles == NULL)
      || cs_tensor_copy (&next.input, ctx->input, err) != CS_OK)
    {
      cs_free_floats (next.work.floats);
      free (next.work.doubles);
      empty (r);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for the state of a stopped run");
    }
  if (w->n_floats > 0)
    memcpy (next.work.floats, w->floats, (size_t) w->n_floats * sizeof (float));
  if (w->n_doubles > 0)
    memcpy (next.work.doubles, w->doubles, (size_t) w->n_doubles * sizeof (double));
  empty (r);
  *r = next;
  return CS_OK;
}

cs_status
cs_method_resume_end (const cs_method_ctx *ctx, cs_status st, const cs_resume_work *w, cs_error *err)
{
  if (st == CS_ERR_CANCELLED)
    return st;
  if (st == CS_OK && w != NULL && w->done < w->total)
    return cs_method_resume_save (ctx, w, err);
  cs_method_resume_clear (ctx);
  return st;
}
