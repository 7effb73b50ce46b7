/* Receptive fields through the graph (Araujo et al. 2019's recurrences, per axis):
 * size' = size + (d·(k-1))·jump, jump' = jump·stride, start' = start - pad·jump. */
#include "features/receptive_field.h"

#include <string.h>

static void
set_global (cs_receptive_field *r)
{
  memset (r, 0, sizeof *r);
  r->global = true;
  r->exact = true;
}

/* The union of the batched inputs' fields; a 1×1 input broadcast over a larger output makes
 * the result global (it carries a summary of the whole image, e.g. squeeze-and-excitation). */
static void
merge_inputs (const cs_graph *g, const cs_node *node, const cs_receptive_field *rf,
              cs_receptive_field *out)
{
  memset (out, 0, sizeof *out);
  bool any = false;
  for (int32_t i = 0; i < node->n_inputs; i++)
    {
      const cs_node *in = &g->nodes[node->inputs[i]];
      const cs_receptive_field *r = &rf[node->inputs[i]];
      if (!r->local && !r->global)
        continue;
      bool broadcast = in->shape.ndim == 4 && node->shape.ndim == 4
                       && ((in->shape.dim[2] == 1 && node->shape.dim[2] > 1)
                           || (in->shape.dim[3] == 1 && node->shape.dim[3] > 1));
      if (r->global || broadcast || in->shape.ndim != 4)
        {
          set_global (out);
          return;
        }
      if (!any)
        {
          *out = *r;
          any = true;
          continue;
        }
      for (int a = 0; a < 2; a++)
        {
          int64_t lo = r->start[a] < out->start[a] ? r->start[a] : out->start[a];
          int64_t e1 = r->start[a] + r->size[a], e2 = out->start[a] + out->size[a];
          int64_t hi = e1 > e2 ? e1 : e2;
          if (r->jump[a] != out->jump[a])
            {
              out->exact = false;
              if (r->jump[a] > out->jump[a])
                out->jump[a] = r->jump[a];
            }
          out->start[a] = lo;
          out->size[a] = hi - lo;
        }
      out->exact = out->exact && r->exact;
    }
}

static void
apply_window (const cs_window_attrs *w, bool dilated, cs_receptive_field *r)
{
  for (int a = 0; a < 2; a++)
    {
      int64_t d = dilated ? w->dilation[a] : 1;
      int64_t ext = d * (w->kernel[a] - 1);
      r->size[a] += ext * r->jump[a];
      r->start[a] -= (int64_t) w->pad[a] * r->jump[a]; /* pad = {top, left, bottom, right} */
      r->jump[a] *= w->stride[a];
    }
}

cs_status
cs_receptive_field_compute (const cs_graph *g, cs_receptive_field *rf, cs_error *err)
{
  const cs_node *input = &g->nodes[g->input_node];
  if (input->shape.ndim != 4)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "receptive fields need a 4-D (N,C,H,W) input");
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *node = &g->nodes[id];
      cs_receptive_field *r = &rf[id];
      memset (r, 0, sizeof *r);
      r->exact = true;
      if (node->op == CS_OP_INPUT)
        {
          r->local = true;
          for (int a = 0; a < 2; a++)
            r->size[a] = r->jump[a] = 1;
          continue;
        }
      if (node->op == CS_OP_PARAM || node->op == CS_OP_CONST)
        continue;
      merge_inputs (g, node, rf, r);
      if (!r->local || r->global)
        continue;
      /* From here the batched inputs are local 4-D fields merged into r. */
      switch (node->op)
        {
        case CS_OP_CONV2D:
          apply_window (&node->attrs.window, true, r);
          break;
        case CS_OP_MAXPOOL:
        case CS_OP_AVGPOOL:
          apply_window (&node->attrs.window, false, r);
          break;
        case CS_OP_GLOBAL_AVGPOOL:
          set_global (r);
          break;
        case CS_OP_REDUCE_MEAN:
          for (int32_t i = 0; i < node->attrs.axes.count; i++)
            if (node->attrs.axes.axes[i] >= 2)
              set_global (r);
          break;
        case CS_OP_SOFTMAX:
          if (node->attrs.axis.axis >= 2)
            set_global (r);
          break;
        case CS_OP_CONCAT:
          if (node->attrs.axis.axis >= 2)
            set_global (r);
          break;
        case CS_OP_PAD:
          for (int a = 0; a < 2; a++)
            r->start[a] -= node->attrs.pad.before[2 + a] * r->jump[a];
          break;
        case CS_OP_SLICE:
          for (int a = 0; a < 2; a++)
            {
              r->start[a] += node->attrs.slice.start[2 + a] * r->jump[a];
              r->jump[a] *= node->attrs.slice.step[2 + a];
            }
          break;
        case CS_OP_TRANSPOSE:
          {
            const cs_axes_attrs *p = &node->attrs.axes;
            if (p->count != 4 || p->axes[2] != 2 || p->axes[3] != 3)
              set_global (r);
            break;
          }
        case CS_OP_FLATTEN:
        case CS_OP_RESHAPE:
        case CS_OP_GEMM:
        case CS_OP_MATMUL:
          set_global (r);
          break;
        default:
          /* pointwise ops, batch norm, dropout, identity: the union already computed */
          break;
        }
      if (node->shape.ndim != 4 && r->local)
        set_global (r);
      if (r->global)
        r->local = false;
    }
  return CS_OK;
}

static int32_t
clip (int64_t v, int32_t hi)
{
  return v < 0 ? 0 : v > hi ? hi : (int32_t) v;
}

void
cs_receptive_field_box (const cs_receptive_field *rf, int64_t y, int64_t x, int32_t input_h,
                        int32_t input_w, int32_t box[4])
{
  if (!rf->local)
    {
      box[0] = box[1] = 0;
      box[2] = input_w;
      box[3] = input_h;
      return;
    }
  int64_t y0 = rf->start[0] + y * rf->jump[0], x0 = rf->start[1] + x * rf->jump[1];
  box[0] = clip (x0, input_w);
  box[1] = clip (y0, input_h);
  box[2] = clip (x0 + rf->size[1], input_w);
  box[3] = clip (y0 + rf->size[0], input_h);
}
