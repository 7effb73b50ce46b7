/* Incremental occlusion inference (Krypton, SIGMOD 2019). Per layer: the box of values a
 * window changes (receptive-field arithmetic over stride, padding and dilation), grown to one
 * fixed size per layer so that the windows of a batch share a shape, recomputed by the op
 * itself on crops of its inputs (the clean activations with the changed boxes written over
 * them), batched over windows. Layers that are not local (global pooling, gemm, flatten,
 * reshape, ...) and everything after them run on whole maps: Krypton's fallback. */
#include "attribution/incremental.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"

typedef struct {
  int64_t y0, y1, x0, x1; /* rows [y0,y1), columns [x0,x1); empty when y0 >= y1 */
} box;

typedef enum {
  NODE_UNUSED = 0,  /* not needed for `until` */
  NODE_FIXED,       /* parameter, constant or unbatched: the exec's value */
  NODE_INPUT,       /* the model input: the window shows the baseline */
  NODE_WINDOW,      /* conv, pools: a crop of its input's receptive field, padding materialised */
  NODE_POINTWISE,   /* element-wise, batch norm, channel concat: the same crop of every input */
  NODE_WHOLE,       /* anything else: whole inputs, whole output */
} node_kind;

typedef struct {
  node_kind kind;
  bool spatial;      /* a batched 4-D map, so a region (else the whole tensor per sample) */
  int64_t c, h, w;
  int64_t rh, rw;    /* the region each window recomputes; (h, w) for a whole map */
  box *exact;        /* per window: where the values differ from the clean run (planning only) */
  int64_t *ry, *rx;  /* per window: the region's top-left */
  cs_tensor clean;   /* [1,C,H,W] of the clean run, kept while the region is partial */
  cs_tensor value;   /* the current batch: [max_batch, C, rh, rw], or the whole shape */
  cs_node op;        /* NODE_WINDOW: the node with zero padding (the crop holds the padding) */
  float pad_value;   /* NODE_WINDOW: 0, or -inf for max pooling (never the maximum) */
} inode;

struct cs_incremental {
  cs_exec *exec;
  const cs_graph *graph;
  int32_t until, max_batch;
  cs_incremental_windows win;
  inode *nodes;
  cs_tensor full;    /* `until` as whole maps, when its own region is partial */
  cs_tensor result;  /* what cs_incremental_run hands out: a view */
  float *work;
  int64_t work_size;
  float *aux;
  int64_t aux_size;
  int64_t *c0, *d0;  /* per window of a batch: where its crop starts */
  cs_op_context ctx;
  double fraction;
};

static int64_t
floor_div (int64_t a, int64_t b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static bool
partial (const inode *n)
{
  return n->spatial && (n->rh < n->h || n->rw < n->w);
}

/* Whether an unbatched operand broadcasts over rows and columns alike (a scalar, or [.., 1, 1]). */
static bool
position_free (const cs_node *n)
{
  const cs_shape *s = &n->shape;
  return cs_shape_numel (s) == 1
         || (s->ndim >= 2 && s->dim[s->ndim - 1] == 1 && s->dim[s->ndim - 2] == 1);
}

static bool
pointwise_op (const cs_node *node)
{
  switch (node->op)
    {
    case CS_OP_RELU: case CS_OP_LEAKY_RELU: case CS_OP_CLIP: case CS_OP_SIGMOID:
    case CS_OP_HARD_SIGMOID: case CS_OP_HARD_SWISH: case CS_OP_TANH: case CS_OP_ERF:
    case CS_OP_SQRT: case CS_OP_EXP: case CS_OP_NEG: case CS_OP_IDENTITY: case CS_OP_DROPOUT:
    case CS_OP_BATCHNORM: case CS_OP_ADD: case CS_OP_SUB: case CS_OP_MUL: case CS_OP_DIV:
    case CS_OP_POW:
      return true;
    case CS_OP_CONCAT:
      return node->attrs.axis.axis == 1;
    default:
      return false;
    }
}

/* How node id is recomputed: local ops need every batched input to be a map of their own size
 * (pointwise) or the op's window input (conv, pools without ceil mode; average pooling only
 * when its padding counts, since the crop holds the padding as zeros). */
static node_kind
classify (const cs_incremental *inc, int32_t id)
{
  const cs_node *node = &inc->graph->nodes[id];
  if (node->op == CS_OP_INPUT)
    return NODE_INPUT;
  if (!node->batched || node->op == CS_OP_PARAM || node->op == CS_OP_CONST)
    return NODE_FIXED;
  const inode *o = &inc->nodes[id];
  if (!o->spatial)
    return NODE_WHOLE;
  bool window = node->op == CS_OP_CONV2D || node->op == CS_OP_MAXPOOL
                || (node->op == CS_OP_AVGPOOL
                    && (node->attrs.window.count_include_pad
                        || (node->attrs.window.pad[0] == 0 && node->attrs.window.pad[1] == 0
                            && node->attrs.window.pad[2] == 0 && node->attrs.window.pad[3] == 0)));
  if (window && node->op != CS_OP_CONV2D && node->attrs.window.ceil_mode)
    window = false;
  if (!window && !pointwise_op (node))
    return NODE_WHOLE;
  for (int32_t i = 0; i < node->n_inputs; i++)
    {
      const cs_node *in = &inc->graph->nodes[node->inputs[i]];
      const inode *si = &inc->nodes[node->inputs[i]];
      if (!in->batched)
        {
          if (!window && !position_free (in))
            return NODE_WHOLE;
          continue;
        }
      if (window && i > 0)
        return NODE_WHOLE;
      if (!si->spatial || (!window && (si->h != o->h || si->w != o->w)))
        return NODE_WHOLE;
    }
  return window ? NODE_WINDOW : NODE_POINTWISE;
}

static int64_t
dilation (int32_t d)
{
  return d > 0 ? d : 1;
}

/* The output rows [o0, o1) a window op changes when its input rows [a, b) changed. */
static void
window_span (int64_t a, int64_t b, int64_t k, int64_t s, int64_t pad, int64_t d, int64_t out_len,
             int64_t *o0, int64_t *o1)
{
  int64_t lo = -floor_div (-(a + pad - d * (k - 1)), s); /* ceil */
  int64_t hi = floor_div (b - 1 + pad, s) + 1;
  *o0 = lo < 0 ? 0 : lo;
  *o1 = hi > out_len ? out_len : hi;
}

/* Node id's changed box for window i, from its inputs'. */
static box
exact_box (const cs_incremental *inc, int32_t id, int64_t i)
{
  const cs_node *node = &inc->graph->nodes[id];
  const inode *o = &inc->nodes[id];
  box full = { 0, o->h, 0, o->w }, u = { 0, 0, 0, 0 };
  if (o->kind == NODE_WHOLE)
    return full;
  bool any = false;
  for (int32_t k = 0; k < node->n_inputs; k++)
    {
      const inode *si = &inc->nodes[node->inputs[k]];
      if (si->kind == NODE_FIXED)
        continue;
      box b = si->exact[i];
      if (b.y0 >= b.y1 || b.x0 >= b.x1)
        continue;
      if (!any)
        u = b;
      u.y0 = b.y0 < u.y0 ? b.y0 : u.y0;
      u.x0 = b.x0 < u.x0 ? b.x0 : u.x0;
      u.y1 = b.y1 > u.y1 ? b.y1 : u.y1;
      u.x1 = b.x1 > u.x1 ? b.x1 : u.x1;
      any = true;
    }
  if (!any || o->kind == NODE_POINTWISE)
    return u;
  const cs_window_attrs *a = &node->attrs.window;
  box r;
  window_span (u.y0, u.y1, a->kernel[0], a->stride[0], a->pad[0], dilation (a->dilation[0]), o->h,
               &r.y0, &r.y1);
  window_span (u.x0, u.x1, a->kernel[1], a->stride[1], a->pad[1], dilation (a->dilation[1]), o->w,
               &r.x0, &r.x1);
  return r;
}

/* Fixes node id's region size (the largest changed box over the windows) and each window's
 * region, the changed box grown to that size inside the map. */
static void
plan_regions (cs_incremental *inc, int32_t id)
{
  inode *o = &inc->nodes[id];
  int64_t count = inc->win.count;
  o->rh = o->rw = 1;
  for (int64_t i = 0; i < count; i++)
    {
      box b = o->kind == NODE_INPUT
              ? (box) { inc->win.wy[i], inc->win.wy[i] + inc->win.k, inc->win.wx[i], inc->win.wx[i] + inc->win.k }
              : exact_box (inc, id, i);
      o->exact[i] = b;
      if (b.y1 - b.y0 > o->rh)
        o->rh = b.y1 - b.y0;
      if (b.x1 - b.x0 > o->rw)
        o->rw = b.x1 - b.x0;
    }
  for (int64_t i = 0; i < count; i++)
    {
      const box *b = &o->exact[i];
      int64_t y = b->y0 < b->y1 ? b->y0 : 0, x = b->x0 < b->x1 ? b->x0 : 0;
      o->ry[i] = y > o->h - o->rh ? o->h - o->rh : y;
      o->rx[i] = x > o->w - o->rw ? o->w - o->rw : x;
    }
}

/* dst[0..cw) = src's columns [d0, d0+cw) of a row of w, pad outside. */
static void
copy_span (const float *src, int64_t w, int64_t d0, int64_t cw, float pad, float *dst)
{
  int64_t a = d0 < 0 ? -d0 : 0, b = d0 + cw > w ? w - d0 : cw;
  for (int64_t j = 0; j < a && j < cw; j++)
    dst[j] = pad;
  if (a < b)
    memcpy (dst + a, src + d0 + a, (size_t) (b - a) * sizeof (float));
  for (int64_t j = b > a ? b : a; j < cw; j++)
    dst[j] = pad;
}

/* Rows [c0, c0+ch) x columns [d0, d0+cw) of map si as window `win` left it (its recomputed
 * region `patch` over the clean map), pad outside the map, into dst [C, ch, cw]. */
static void
gather (const inode *si, int64_t win, const float *patch, int64_t c0, int64_t ch, int64_t d0,
        int64_t cw, float pad, float *dst)
{
  bool whole = !partial (si);
  const float *base = whole ? patch : si->clean.data;
  int64_t ry = si->ry[win], rx = si->rx[win];
  int64_t a = d0 > rx ? d0 : rx, b = d0 + cw < rx + si->rw ? d0 + cw : rx + si->rw;
  for (int64_t c = 0; c < si->c; c++)
    for (int64_t r = 0; r < ch; r++)
      {
        float *row = dst + (c * ch + r) * cw;
        int64_t y = c0 + r;
        if (y < 0 || y >= si->h)
          {
            for (int64_t j = 0; j < cw; j++)
              row[j] = pad;
            continue;
          }
        copy_span (base + (c * si->h + y) * si->w, si->w, d0, cw, pad, row);
        if (!whole && y >= ry && y < ry + si->rh && a < b)
          memcpy (row + (a - d0), patch + (c * si->rh + (y - ry)) * si->rw + (a - rx),
                  (size_t) (b - a) * sizeof (float));
      }
}

static float *
grow (float **buf, int64_t *size, int64_t want)
{
  if (want <= *size)
    return *buf;
  float *p = cs_alloc_floats (want);
  if (p == NULL)
    return NULL;
  cs_free_floats (*buf);
  *buf = p;
  *size = want;
  return p;
}

/* The crop of input `src` that node id reads for the windows idx[0..n): where each window's
 * crop starts (c0[j], d0[j]), its size, and its padding value. */
static void
crop_geometry (const cs_incremental *inc, int32_t id, int32_t src, const int64_t *idx, int32_t n,
               int64_t *c0, int64_t *d0, int64_t *ch, int64_t *cw, float *pad)
{
  const inode *o = &inc->nodes[id], *si = &inc->nodes[src];
  const cs_window_attrs *a = &inc->graph->nodes[id].attrs.window;
  *pad = 0;
  for (int32_t j = 0; j < n; j++)
    switch (o->kind)
      {
      case NODE_WINDOW:
        c0[j] = o->ry[idx[j]] * a->stride[0] - a->pad[0];
        d0[j] = o->rx[idx[j]] * a->stride[1] - a->pad[1];
        *ch = (o->rh - 1) * a->stride[0] + dilation (a->dilation[0]) * (a->kernel[0] - 1) + 1;
        *cw = (o->rw - 1) * a->stride[1] + dilation (a->dilation[1]) * (a->kernel[1] - 1) + 1;
        *pad = o->pad_value;
        break;
      case NODE_POINTWISE:
        c0[j] = o->ry[idx[j]];
        d0[j] = o->rx[idx[j]];
        *ch = o->rh;
        *cw = o->rw;
        break;
      default:
        c0[j] = d0[j] = 0;
        *ch = si->h;
        *cw = si->w;
        break;
      }
}

/* The batched value of node src as node id reads it: a view of src's own value when the crop
 * is exactly its region for every window, else a gathered crop in `crop` (allocated here). */
static cs_status
input_crop (cs_incremental *inc, int32_t id, int32_t src, const int64_t *idx, int32_t n,
            cs_tensor *crop, const cs_tensor **in, cs_error *err)
{
  const inode *si = &inc->nodes[src];
  cs_shape sh = si->value.shape;
  sh.dim[0] = n;
  if (!si->spatial)
    {
      *crop = cs_tensor_view (&sh, si->value.data);
      *in = crop;
      return CS_OK;
    }
  int64_t *c0 = inc->c0, *d0 = inc->d0, ch, cw;
  float pad;
  crop_geometry (inc, id, src, idx, n, c0, d0, &ch, &cw, &pad);
  bool same = ch == si->rh && cw == si->rw;
  for (int32_t j = 0; j < n && same; j++)
    same = c0[j] == si->ry[idx[j]] && d0[j] == si->rx[idx[j]];
  if (same)
    {
      *crop = cs_tensor_view (&sh, si->value.data);
      *in = crop;
      return CS_OK;
    }
  cs_shape cs = cs_shape_4d (n, si->c, ch, cw);
  cs_status st = cs_tensor_alloc (crop, &cs, err);
  if (st != CS_OK)
    return st;
  int64_t per = si->c * ch * cw, region = si->c * si->rh * si->rw;
#pragma omp parallel for schedule (static) if (n > 1)
  for (int32_t j = 0; j < n; j++)
    gather (si, idx[j], si->value.data + j * region, c0[j], ch, d0[j], cw, pad, crop->data + j * per);
  *in = crop;
  return CS_OK;
}

/* Recomputes node id for windows idx[0..n) into its value. */
static cs_status
compute_node (cs_incremental *inc, int32_t id, const int64_t *idx, int32_t n, cs_error *err)
{
  const cs_node *gnode = &inc->graph->nodes[id];
  inode *o = &inc->nodes[id];
  const cs_node *node = o->kind == NODE_WINDOW ? &o->op : gnode;
  const cs_op_info *info = cs_op_get (node->op);
  int32_t k = node->n_inputs;
  cs_tensor *crops = calloc ((size_t) k, sizeof *crops);
  const cs_tensor **ins = calloc ((size_t) k, sizeof *ins);
  cs_shape *shapes = calloc ((size_t) k, sizeof *shapes);
  const cs_shape **sp = calloc ((size_t) k, sizeof *sp);
  cs_status st = crops != NULL && ins != NULL && shapes != NULL && sp != NULL
                 ? CS_OK : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t i = 0; i < k && st == CS_OK; i++)
    {
      int32_t src = node->inputs[i];
      if (inc->nodes[src].kind == NODE_FIXED)
        ins[i] = cs_exec_value (inc->exec, src);
      else
        st = input_crop (inc, id, src, idx, n, &crops[i], &ins[i], err);
      if (st == CS_OK)
        {
          shapes[i] = ins[i]->shape;
          if (inc->graph->nodes[src].batched)
            shapes[i].dim[0] = 1;
          sp[i] = &shapes[i];
        }
    }
  cs_shape os;
  char got[128], want[128];
  if (st == CS_OK && info->infer (node, sp, &os, err) != CS_OK)
    st = cs_error_prefix (err, "node '%s' (incremental)", gnode->name);
  cs_shape expect = o->value.shape;
  expect.dim[0] = 1;
  if (st == CS_OK && !cs_shape_equal (&os, &expect))
    st = cs_error_set (err, CS_ERR_SHAPE, "node '%s': a crop gives %s, not %s", gnode->name,
                       cs_shape_format (&os, got, sizeof got), cs_shape_format (&expect, want, sizeof want));
  os.dim[0] = n;
  cs_tensor out = cs_tensor_view (&os, o->value.data);
  for (int32_t i = 0; i < k && st == CS_OK; i++)
    {
      shapes[i] = ins[i]->shape; /* workspace and aux are sized at the run-time batch */
    }
  int64_t wsize = st == CS_OK && info->workspace != NULL ? info->workspace (node, sp, &os, n) : 1;
  int64_t asize = st == CS_OK && info->aux_size != NULL ? info->aux_size (node, sp, &os, n) : 0;
  if (st == CS_OK && (wsize < 0 || wsize > CS_MAX_ELEMENTS || asize < 0 || asize > CS_MAX_ELEMENTS))
    st = cs_error_set (err, CS_ERR_LIMIT, "node '%s': scratch of %lld floats", gnode->name,
                       (long long) (wsize > asize ? wsize : asize));
  if (st == CS_OK && (grow (&inc->work, &inc->work_size, wsize > 1 ? wsize : 1) == NULL
                      || grow (&inc->aux, &inc->aux_size, asize > 1 ? asize : 1) == NULL))
    st = cs_error_set (err, CS_ERR_MEMORY, "node '%s': out of memory for scratch", gnode->name);
  if (st == CS_OK)
    {
      cs_shape as = cs_shape_make (1, (int64_t[]) { asize > 1 ? asize : 1 });
      cs_tensor aux = cs_tensor_view (&as, inc->aux), none;
      memset (&none, 0, sizeof none);
      cs_op_call call = { .node = node, .n_inputs = k, .in = ins, .out = &out, .work = inc->work,
                          .aux = asize > 0 ? &aux : &none, .ctx = &inc->ctx };
      st = info->forward (&call);
      if (st != CS_OK)
        cs_error_set (err, st, "node '%s': forward failed (%s)", gnode->name, cs_status_name (st));
    }
  for (int32_t i = 0; crops != NULL && i < k; i++)
    cs_tensor_free (&crops[i]);
  free (crops);
  free (ins);
  free (shapes);
  free (sp);
  return st;
}

/* The input's value for windows idx[0..n): the baseline inside each window. */
static void
fill_input (cs_incremental *inc, int32_t id, const int64_t *idx, int32_t n)
{
  inode *o = &inc->nodes[id];
  const float *x0 = inc->win.baseline->data;
  int64_t region = o->c * o->rh * o->rw;
  for (int32_t j = 0; j < n; j++)
    for (int64_t c = 0; c < o->c; c++)
      for (int64_t r = 0; r < o->rh; r++)
        memcpy (o->value.data + j * region + (c * o->rh + r) * o->rw,
                x0 + (c * o->h + o->ry[idx[j]] + r) * o->w + o->rx[idx[j]],
                (size_t) o->rw * sizeof (float));
}

cs_status
cs_incremental_run (cs_incremental *inc, const int64_t *idx, int32_t n, const cs_tensor **value,
                    cs_error *err)
{
  if (n < 1 || n > inc->max_batch)
    return cs_error_set (err, CS_ERR_ARGUMENT, "batch of %d windows (at most %d)", n, inc->max_batch);
  int previous = cs_threads_enter (inc->ctx.threads);
  cs_status st = CS_OK;
  for (int32_t id = 0; id <= inc->until && st == CS_OK; id++)
    {
      node_kind kind = inc->nodes[id].kind;
      if (kind == NODE_INPUT)
        fill_input (inc, id, idx, n);
      else if (kind == NODE_WINDOW || kind == NODE_POINTWISE || kind == NODE_WHOLE)
        st = compute_node (inc, id, idx, n, err);
    }
  const inode *o = &inc->nodes[inc->until];
  if (st == CS_OK && partial (o))
    {
      /* the explained unit reads whole maps: the region written over the clean map */
      int64_t per = o->c * o->h * o->w, region = o->c * o->rh * o->rw;
      for (int32_t j = 0; j < n; j++)
        gather (o, idx[j], o->value.data + j * region, 0, o->h, 0, o->w, 0, inc->full.data + j * per);
      cs_shape sh = cs_shape_4d (n, o->c, o->h, o->w);
      inc->result = cs_tensor_view (&sh, inc->full.data);
      *value = &inc->result;
    }
  else if (st == CS_OK)
    {
      cs_shape sh = o->value.shape;
      sh.dim[0] = n;
      inc->result = cs_tensor_view (&sh, o->value.data);
      *value = &inc->result;
    }
  cs_threads_leave (previous);
  return st;
}

/* Marks the ancestors of `until` (the nodes a forward to it computes). */
static void
mark_needed (const cs_graph *g, int32_t until, bool *mark)
{
  mark[until] = true;
  for (int32_t id = until; id >= 0; id--)
    if (mark[id])
      for (int32_t i = 0; i < g->nodes[id].n_inputs; i++)
        mark[g->nodes[id].inputs[i]] = true;
}

/* The FLOPs of node id at the graph's shapes (one per output element when the op has no count). */
static double
node_flops (const cs_graph *g, int32_t id)
{
  const cs_node *node = &g->nodes[id];
  const cs_op_info *info = cs_op_get (node->op);
  const cs_shape **sp = malloc ((size_t) (node->n_inputs + 1) * sizeof *sp);
  double f = (double) cs_shape_numel (&node->shape);
  if (sp == NULL)
    return f;
  for (int32_t i = 0; i < node->n_inputs; i++)
    sp[i] = &g->nodes[node->inputs[i]].shape;
  if (info != NULL && info->flops != NULL)
    f = (double) info->flops (node, sp, &node->shape);
  free (sp);
  return f;
}

/* Classifies node id, fixes its regions and allocates what it keeps. */
static cs_status
plan_node (cs_incremental *inc, int32_t id, cs_error *err)
{
  const cs_node *node = &inc->graph->nodes[id];
  inode *o = &inc->nodes[id];
  o->spatial = node->batched && node->shape.ndim == 4 && node->op != CS_OP_PARAM
               && node->op != CS_OP_CONST;
  if (o->spatial)
    {
      o->c = node->shape.dim[1];
      o->h = node->shape.dim[2];
      o->w = node->shape.dim[3];
    }
  o->kind = classify (inc, id);
  if (o->kind == NODE_FIXED)
    return CS_OK;
  if (o->kind == NODE_INPUT && !o->spatial)
    return cs_error_set (err, CS_ERR_SHAPE, "occlusion needs a 4-D model input");
  cs_shape vs = node->shape;
  vs.dim[0] = inc->max_batch;
  if (o->spatial)
    {
      int64_t count = inc->win.count;
      o->exact = malloc ((size_t) count * sizeof *o->exact);
      o->ry = malloc ((size_t) (2 * count) * sizeof *o->ry);
      if (o->exact == NULL || o->ry == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld windows", (long long) count);
      o->rx = o->ry + count;
      plan_regions (inc, id);
      vs = cs_shape_4d (inc->max_batch, o->c, o->rh, o->rw);
      /* a window op from a whole map to a whole map runs as in a full forward, on the
       * input's own value with its own padding: no crop to copy */
      if (o->kind == NODE_WINDOW && !partial (o) && !partial (&inc->nodes[node->inputs[0]]))
        o->kind = NODE_WHOLE;
    }
  if (o->kind == NODE_WINDOW)
    {
      o->op = *node;
      memset (o->op.attrs.window.pad, 0, sizeof o->op.attrs.window.pad);
      o->pad_value = node->op == CS_OP_MAXPOOL ? -INFINITY : 0.0f;
    }
  cs_status st = cs_tensor_alloc (&o->value, &vs, err);
  if (st == CS_OK && partial (o))
    {
      const cs_tensor *v = o->kind == NODE_INPUT ? inc->win.input : cs_exec_value (inc->exec, id);
      cs_shape cs = cs_shape_4d (1, o->c, o->h, o->w);
      st = cs_tensor_alloc (&o->clean, &cs, err);
      if (st == CS_OK)
        memcpy (o->clean.data, v->data, (size_t) cs_tensor_numel (&o->clean) * sizeof (float));
    }
  return st != CS_OK ? cs_error_prefix (err, "node '%s'", node->name) : CS_OK;
}

cs_status
cs_incremental_new (cs_exec *e, int32_t until, const cs_incremental_windows *w, int32_t max_batch,
                    bool clean_forwarded, cs_incremental **out, cs_error *err)
{
  *out = NULL;
  const cs_graph *g = cs_exec_model (e)->graph;
  if (until < 0 || until >= g->n_nodes || max_batch < 1)
    return cs_error_set (err, CS_ERR_ARGUMENT, "incremental inference of node %d at batch %d", until,
                         max_batch);
  cs_status st = clean_forwarded ? CS_OK : cs_exec_forward_until (e, w->input, until, err);
  if (st != CS_OK)
    return st;
  cs_incremental *inc = calloc (1, sizeof *inc);
  bool *needed = calloc ((size_t) g->n_nodes, sizeof *needed);
  if (inc == NULL || needed == NULL || (inc->nodes = calloc ((size_t) g->n_nodes, sizeof *inc->nodes)) == NULL
      || (inc->c0 = malloc ((size_t) (2 * max_batch) * sizeof *inc->c0)) == NULL)
    {
      free (needed);
      if (inc != NULL)
        free (inc->nodes);
      free (inc);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for incremental inference");
    }
  inc->d0 = inc->c0 + max_batch;
  inc->exec = e;
  inc->graph = g;
  inc->until = until;
  inc->max_batch = max_batch;
  inc->win = *w;
  inc->ctx = (cs_op_context) { .training = false, .relu_rule = cs_exec_relu_rule (e),
                               .threads = cs_exec_threads (e) };
  mark_needed (g, until, needed);
  double total = 0, redone = 0;
  for (int32_t id = 0; id <= until && st == CS_OK; id++)
    {
      if (!needed[id])
        continue;
      st = plan_node (inc, id, err);
      const inode *o = &inc->nodes[id];
      if (st != CS_OK || o->kind == NODE_FIXED || o->kind == NODE_INPUT)
        continue;
      double f = node_flops (g, id);
      total += f;
      redone += o->spatial ? f * (double) (o->rh * o->rw) / (double) (o->h * o->w) : f;
    }
  free (needed);
  /* the changed boxes only serve the planning; the regions (ry, rx) are what runs */
  for (int32_t id = 0; id <= until; id++)
    {
      free (inc->nodes[id].exact);
      inc->nodes[id].exact = NULL;
    }
  inc->fraction = total > 0 ? redone / total : 1.0;
  const inode *top = &inc->nodes[until];
  if (st == CS_OK && partial (top))
    {
      cs_shape fs = cs_shape_4d (max_batch, top->c, top->h, top->w);
      st = cs_tensor_alloc (&inc->full, &fs, err);
    }
  if (st != CS_OK || !(inc->fraction < 1.0))
    {
      cs_incremental_free (inc);
      return st;
    }
  *out = inc;
  return CS_OK;
}

double
cs_incremental_work_fraction (const cs_incremental *inc)
{
  return inc->fraction;
}

void
cs_incremental_free (cs_incremental *inc)
{
  if (inc == NULL)
    return;
  for (int32_t id = 0; id < inc->graph->n_nodes; id++)
    {
      inode *o = &inc->nodes[id];
      free (o->exact);
      free (o->ry);
      cs_tensor_free (&o->clean);
      cs_tensor_free (&o->value);
    }
  free (inc->nodes);
  free (inc->c0);
  cs_tensor_free (&inc->full);
  cs_free_floats (inc->work);
  cs_free_floats (inc->aux);
  free (inc);
}
