/* Pad in constant, reflect and edge modes, with negative pads (cropping) as ONNX allows:
 * the input is first cropped, then padded, so reflect and edge mirror the cropped border. */
#include <string.h>

#include "graph/ops.h"
#include "ops/strided.h"

/* One axis: out[p] comes from in[src (p)], or is the constant where src is -1. The kept input
 * range is [lo, hi) (cropped by the negative pads), placed at p = before + lo. */
typedef struct {
  int64_t before, lo, hi, out;
} pad_axis;

static void
pad_axis_make (int64_t dim, int64_t before, int64_t after, pad_axis *a)
{
  a->before = before;
  a->lo = before < 0 ? -before : 0;
  a->hi = dim - (after < 0 ? -after : 0);
  a->out = dim + before + after;
}

static int64_t
pad_source (const pad_axis *a, int64_t p, cs_pad_mode mode)
{
  int64_t q = p - a->before;
  if (q >= a->lo && q < a->hi)
    return q;
  switch (mode)
    {
    case CS_PAD_EDGE:
      return q < a->lo ? a->lo : a->hi - 1;
    case CS_PAD_REFLECT:
      {
        /* numpy's reflect, also for pads longer than the axis: a period of 2 (len - 1) */
        int64_t len = a->hi - a->lo;
        if (len == 1)
          return a->lo;
        int64_t period = 2 * (len - 1), r = (q - a->lo) % period;
        if (r < 0)
          r += period;
        return a->lo + (r < len ? r : period - r);
      }
    case CS_PAD_CONSTANT:
    default:
      return -1;
    }
}

static const char *
mode_name (cs_pad_mode m)
{
  return m == CS_PAD_REFLECT ? "reflect" : m == CS_PAD_EDGE ? "edge" : "constant";
}

static cs_status
pad_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_pad_attrs *a = &node->attrs.pad;
  char b[96];
  if (a->mode != CS_PAD_CONSTANT && a->mode != CS_PAD_REFLECT && a->mode != CS_PAD_EDGE)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "unknown pad mode %d", (int) a->mode);
  if (in[0]->ndim < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "cannot pad a scalar");
  if (a->before[0] != 0 || a->after[0] != 0)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "padding dim 0 (the batch) is not supported");
  *out = *in[0];
  for (int32_t d = 1; d < in[0]->ndim; d++)
    {
      int64_t dim = in[0]->dim[d], lim = CS_MAX_ELEMENTS;
      if (a->before[d] < -lim || a->before[d] > lim || a->after[d] < -lim || a->after[d] > lim)
        return cs_error_set (err, CS_ERR_LIMIT, "pad of axis %d is out of range", d);
      pad_axis ax;
      pad_axis_make (dim, a->before[d], a->after[d], &ax);
      if (ax.out < 0 || ax.hi < ax.lo)
        return cs_error_set (err, CS_ERR_SHAPE, "pads %lld, %lld crop more than axis %d of %s "
                             "has", (long long) a->before[d], (long long) a->after[d], d,
                             cs_shape_format (in[0], b, sizeof b));
      if (a->mode != CS_PAD_CONSTANT && ax.hi == ax.lo && ax.out > 0)
        return cs_error_set (err, CS_ERR_SHAPE, "%s pad of axis %d has no input values to "
                             "copy from", mode_name (a->mode), d);
      out->dim[d] = ax.out;
    }
  if (cs_shape_numel (out) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "the output %s is larger than %lld elements",
                         cs_shape_format (out, b, sizeof b), (long long) CS_MAX_ELEMENTS);
  return CS_OK;
}

/* Per-axis maps at the run-time shapes; checks that outlike has the padded shape. */
static cs_status
pad_layout (const cs_op_call *call, const cs_tensor *outlike, pad_axis *ax)
{
  const cs_pad_attrs *a = &call->node->attrs.pad;
  const cs_shape *s = &call->in[0]->shape;
  if (s->ndim < 1 || outlike->shape.ndim != s->ndim)
    return CS_ERR_SHAPE;
  for (int32_t d = 0; d < s->ndim; d++)
    {
      pad_axis_make (s->dim[d], d == 0 ? 0 : a->before[d], d == 0 ? 0 : a->after[d], &ax[d]);
      if (ax[d].out != outlike->shape.dim[d] || ax[d].hi < ax[d].lo)
        return CS_ERR_SHAPE;
      if (a->mode != CS_PAD_CONSTANT && ax[d].hi == ax[d].lo && ax[d].out > 0)
        return CS_ERR_SHAPE;
    }
  return CS_OK;
}

/* Walks the output row by row (all axes but the last), mapping each row to its input row
 * (or to none: a constant row), and the last axis as before / copied run / after. forward
 * writes out from in; backward adds dout into din at the same places. */
static void
pad_walk (const cs_op_call *call, const pad_axis *ax, float *out, float *in, bool backward)
{
  const cs_pad_attrs *a = &call->node->attrs.pad;
  const cs_shape *s = &call->in[0]->shape;
  int32_t r = s->ndim, last = r - 1;
  int64_t in_st[CS_MAX_DIMS], idx[CS_MAX_DIMS] = { 0 }, rows = 1;
  cs_strides_contiguous (s, in_st);
  for (int32_t d = 0; d < last; d++)
    rows *= ax[d].out;
  const pad_axis *w = &ax[last];
  int64_t run0 = w->before + w->lo, run = w->hi - w->lo;
  for (int64_t row = 0; row < rows; row++, out += w->out)
    {
      int64_t src = 0;
      bool constant = false;
      for (int32_t d = 0; d < last && !constant; d++)
        {
          int64_t q = pad_source (&ax[d], idx[d], a->mode);
          constant = q < 0;
          src += q * in_st[d];
        }
      if (constant)
        {
          if (!backward)
            for (int64_t p = 0; p < w->out; p++)
              out[p] = a->value;
        }
      else
        {
          float *irow = in + src;
          for (int64_t p = 0; p < run0; p++)
            {
              int64_t q = pad_source (w, p, a->mode);
              if (backward && q >= 0)
                irow[q] += out[p];
              else if (!backward)
                out[p] = q >= 0 ? irow[q] : a->value;
            }
          if (backward)
            cs_floats_accumulate (irow + w->lo, out + run0, run);
          else if (run > 0)
            memcpy (out + run0, irow + w->lo, (size_t) run * sizeof (float));
          for (int64_t p = run0 + run; p < w->out; p++)
            {
              int64_t q = pad_source (w, p, a->mode);
              if (backward && q >= 0)
                irow[q] += out[p];
              else if (!backward)
                out[p] = q >= 0 ? irow[q] : a->value;
            }
        }
      for (int32_t d = last - 1; d >= 0; d--)
        {
          if (++idx[d] < ax[d].out)
            break;
          idx[d] = 0;
        }
    }
}

static cs_status
pad_forward (const cs_op_call *call)
{
  pad_axis ax[CS_MAX_DIMS];
  cs_status st = pad_layout (call, call->out, ax);
  if (st == CS_OK && cs_tensor_numel (call->out) > 0)
    pad_walk (call, ax, call->out->data, call->in[0]->data, false);
  return st;
}

static cs_status
pad_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  pad_axis ax[CS_MAX_DIMS];
  cs_status st = pad_layout (call, call->dout, ax);
  if (st == CS_OK && cs_tensor_numel (call->dout) > 0)
    pad_walk (call, ax, call->dout->data, call->din[0]->data, true);
  return st;
}

static int64_t
no_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

const cs_op_info cs_op_pad_info = {
  .name = "pad", .min_inputs = 1, .max_inputs = 1,
  .infer = pad_infer, .forward = pad_forward, .backward = pad_backward,
  .flops = no_flops,
};
