/* model.json: every op and default, agreement with PyTorch's forward, save/load round trip,
 * and errors that name the file and the node. */
#include "exec/exec.h"
#include "io/model_json.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "iotest.h"
#include "testlib.h"

static cs_graph *
parse (const char *text, cs_error *err)
{
  return cs_model_json_parse (text, strlen (text), "model.json", err);
}

#define HEAD "{\"format\":\"convscope-model/1\",\"input\":[2,8,8],\"nodes\":["

static const struct {
  const char *text;
  cs_status code;
  const char *message;
} bad[] = {
  { "not json", CS_ERR_FORMAT, "model.json: not a JSON object" },
  { "{\"format\":\"convscope-run/1\",\"input\":[1],\"nodes\":[]}", CS_ERR_FORMAT, "convscope-model/1" },
  { "{\"format\":\"convscope-model/1\",\"nodes\":[{\"name\":\"r\",\"op\":\"relu\"}]}", CS_ERR_FORMAT, "\"input\"" },
  { "{\"format\":\"convscope-model/1\",\"input\":[0,4,4],\"nodes\":[{\"name\":\"r\",\"op\":\"relu\"}]}", CS_ERR_FORMAT, "positive" },
  { "{\"format\":\"convscope-model/1\",\"input\":[100000,100000,100000],\"nodes\":[{\"name\":\"r\",\"op\":\"relu\"}]}", CS_ERR_LIMIT, "larger" },
  { HEAD "]}", CS_ERR_FORMAT, "non-empty" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv3d\"}]}", CS_ERR_UNSUPPORTED, "model.json: node 0 'c': unknown op 'conv3d'" },
  { HEAD "{\"name\":\"conv2\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":0}]}", CS_ERR_FORMAT, "model.json: node 0 'conv2': kernel must be positive" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\"},{\"name\":\"c\",\"op\":\"conv2d\",\"kernel\":3}]}", CS_ERR_FORMAT, "node 1 'c': missing attribute 'out_channels'" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernal\":3}]}", CS_ERR_FORMAT, "unknown attribute 'kernal'" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":[3,3,3]}]}", CS_ERR_FORMAT, "[h, w]" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":3,\"padding\":-1}]}", CS_ERR_FORMAT, "padding must be non-negative" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":3,\"kernel\":3,\"groups\":2}]}", CS_ERR_SHAPE, "groups" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":3,\"bias\":1}]}", CS_ERR_FORMAT, "bias must be true or false" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":30}]}", CS_ERR_SHAPE, "model.json: node 'c'" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":16000000,\"kernel\":[4000,4000]}]}", CS_ERR_LIMIT, "weight" },
  { HEAD "{\"name\":\"fc\",\"op\":\"linear\",\"out_features\":4}]}", CS_ERR_SHAPE, "flatten" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\",\"inputs\":[\"later\"]},{\"name\":\"later\",\"op\":\"relu\"}]}", CS_ERR_FORMAT, "input 'later' is not an earlier node" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\"},{\"name\":\"r\",\"op\":\"relu\"}]}", CS_ERR_FORMAT, "node 1 'r': name is used" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\"},{\"name\":\"a\",\"op\":\"add\",\"inputs\":[\"r\"]}]}", CS_ERR_FORMAT, "add takes 2 inputs" },
  { HEAD "{\"name\":\"a\",\"op\":\"add\"}]}", CS_ERR_FORMAT, "needs \"inputs\"" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\",\"inputs\":[\"input\",\"input\"]}]}", CS_ERR_FORMAT, "relu takes 1 input" },
  { HEAD "{\"name\":\"p\",\"op\":\"maxpool2d\",\"kernel\":2,\"padding\":2}]}", CS_ERR_FORMAT, "half the kernel" },
  { HEAD "{\"name\":\"d\",\"op\":\"dropout\",\"p\":1}]}", CS_ERR_FORMAT, "below 1" },
  { HEAD "{\"name\":\"l\",\"op\":\"leaky_relu\",\"slope\":\"x\"}]}", CS_ERR_FORMAT, "slope must be a number" },
  { HEAD "{\"op\":\"relu\"}]}", CS_ERR_FORMAT, "node 0: missing \"name\"" },
  { HEAD "3]}", CS_ERR_FORMAT, "node 0: not a JSON object" },
  { HEAD "{\"name\":\"r\",\"op\":\"relu\",\"inputs\":[\"input.weight\"]}]}", CS_ERR_FORMAT, "not an earlier node" },
  { HEAD "{\"name\":\"c\",\"op\":\"conv2d\",\"out_channels\":4,\"kernel\":3},{\"name\":\"r\",\"op\":\"relu\",\"inputs\":[\"c.weight\"]}]}", CS_ERR_FORMAT, "'c.weight' is not an earlier node" },
};

static bool
same_graph (const cs_graph *a, const cs_graph *b)
{
  if (a->n_nodes != b->n_nodes || a->output_node != b->output_node || a->n_params != b->n_params)
    return false;
  for (int32_t i = 0; i < a->n_nodes; i++)
    {
      const cs_node *x = &a->nodes[i], *y = &b->nodes[i];
      if (x->op != y->op || strcmp (x->name, y->name) != 0 || !cs_shape_equal (&x->shape, &y->shape)
          || x->n_inputs != y->n_inputs)
        return false;
      for (int32_t k = 0; k < x->n_inputs; k++)
        if (x->inputs[k] != y->inputs[k])
          return false;
      if (x->op == CS_OP_CONV2D || x->op == CS_OP_MAXPOOL || x->op == CS_OP_AVGPOOL)
        {
          const cs_window_attrs *p = &x->attrs.window, *q = &y->attrs.window;
          if (memcmp (p->kernel, q->kernel, sizeof p->kernel) || memcmp (p->stride, q->stride, sizeof p->stride)
              || memcmp (p->pad, q->pad, sizeof p->pad) || p->count_include_pad != q->count_include_pad
              || p->ceil_mode != q->ceil_mode || (x->op == CS_OP_CONV2D && p->groups != q->groups))
            return false;
        }
    }
  return true;
}

int
main (void)
{
  cs_error err = { 0 };
  size_t size;
  uint8_t *text = read_bytes (data_path ("small-model.json"), &size);
  cs_graph *g = cs_model_json_parse ((const char *) text, size, "small-model.json", &err);
  CHECK (g != NULL, "small-model.json parses (%s)", g ? "ok" : err.message);
  if (g == NULL)
    return test_done ();
  int32_t conv2 = cs_graph_find (g, "conv2"), pool1 = cs_graph_find (g, "pool1");
  int32_t avg = cs_graph_find (g, "avg"), fc = cs_graph_find (g, "fc"), add1 = cs_graph_find (g, "add1");
  const cs_window_attrs *w2 = &g->nodes[conv2].attrs.window;
  CHECK (g->nodes[conv2].n_inputs == 2 && w2->groups == 2 && w2->kernel[0] == 3 && w2->kernel[1] == 1
         && w2->pad[0] == 1 && w2->pad[1] == 0 && w2->pad[2] == 1 && w2->pad[3] == 0,
         "conv2d: [h, w] sizes, pad {top, left, bottom, right}, groups, bias false");
  int32_t w2id = g->nodes[conv2].inputs[1];
  CHECK (g->nodes[w2id].op == CS_OP_PARAM && strcmp (g->nodes[w2id].name, "conv2.weight") == 0
         && g->nodes[w2id].shape.dim[0] == 4 && g->nodes[w2id].shape.dim[1] == 2,
         "grouped weight conv2.weight is [4, 2, 3, 1]");
  CHECK (g->nodes[pool1].attrs.window.stride[0] == 2 && g->nodes[avg].attrs.window.count_include_pad,
         "maxpool stride defaults to the kernel; avgpool counts padding like PyTorch");
  CHECK (g->nodes[fc].op == CS_OP_GEMM && g->nodes[fc].attrs.gemm.trans_b
         && g->nodes[fc].attrs.gemm.alpha == 1.0f && g->nodes[fc].attrs.gemm.beta == 1.0f
         && g->nodes[g->nodes[fc].inputs[1]].shape.dim[0] == 5, "linear is Gemm with trans_b, weight [out, in]");
  CHECK (g->nodes[add1].inputs[0] == pool1, "named inputs");
  CHECK (g->output_node == fc && g->nodes[fc].shape.ndim == 2 && g->nodes[fc].shape.dim[1] == 5,
         "output is the last node, [1, 5]");
  int32_t bn = cs_graph_find (g, "bn1");
  CHECK (bn >= 0 && g->nodes[bn].n_inputs == 5
         && strcmp (g->nodes[g->nodes[bn].inputs[3]].name, "bn1.running_mean") == 0
         && CLOSE (g->nodes[bn].attrs.norm.eps, 1e-5, 0, 1e-6)
         && CLOSE (g->nodes[bn].attrs.norm.momentum, 0.1, 0, 1e-6), "batchnorm2d params and defaults");

  /* the same network in PyTorch gave these logits */
  cs_model *m = cs_model_new (g, &err);
  cs_tensor x, ref;
  CHECK (m != NULL && cs_safetensors_apply (m, data_path ("small-model.safetensors"), false, &err) == CS_OK,
         "PyTorch weights apply");
  CHECK (cs_npy_load (data_path ("small-model-input.npy"), &x, &err) == CS_OK
         && cs_npy_load (data_path ("small-model-logits.npy"), &ref, &err) == CS_OK, "fixtures load");
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_status st = e != NULL ? cs_exec_forward (e, &x, &err) : CS_ERR_ARGUMENT;
  const cs_tensor *y = st == CS_OK ? cs_exec_value (e, g->output_node) : NULL;
  int close = 0;
  for (int i = 0; y != NULL && i < 5; i++)
    close += CLOSE (y->data[i], ref.data[i], 1e-5, 1e-4);
  CHECK (close == 5, "logits match PyTorch's (%s)", st == CS_OK ? "forward ok" : err.message);
  cs_exec_free (e);
  cs_tensor_free (&x);
  cs_tensor_free (&ref);

  /* round trip */
  char *dir = scratch_dir ();
  const char *p1 = join (dir, "a.json");
  CHECK (cs_model_json_save (g, p1, &err) == CS_OK, "save: %s", err.code ? err.message : "ok");
  cs_model *m2 = cs_model_json_load (p1, 3, &err);
  CHECK (m2 != NULL && same_graph (g, m2->graph), "saved model.json loads to the same graph");
  const char *p2 = join (dir, "b.json");
  size_t n1, n2;
  uint8_t *t1 = read_bytes (p1, &n1), *t2 = NULL;
  if (m2 != NULL && cs_model_json_save (m2->graph, p2, &err) == CS_OK)
    t2 = read_bytes (p2, &n2);
  CHECK (t1 != NULL && t2 != NULL && n1 == n2 && memcmp (t1, t2, n1) == 0, "and saves to the same text");
  CHECK (t1 != NULL && strstr ((char *) t1, "\"eps\":1e-05") != NULL, "floats written shortest");
  free (t1);
  free (t2);
  CHECK (m2 != NULL && m2->path != NULL && strcmp (m2->path, p1) == 0, "model path recorded");
  cs_model *m3 = cs_model_json_load (p1, 3, &err);
  CHECK (m3 != NULL && m2 != NULL && memcmp (m3->weights[0].data, m2->weights[0].data,
                                             sizeof (float) * (size_t) cs_tensor_numel (&m2->weights[0])) == 0,
         "initialisation is seeded");
  cs_model_free (m3);
  cs_model_free (m2);

  /* a graph model.json cannot express: the save fails and writes nothing */
  cs_graph *h = parse (HEAD "{\"name\":\"r\",\"op\":\"relu\"}]}", &err);
  int32_t r = h != NULL ? cs_graph_find (h, "r") : -1;
  cs_attrs sa = cs_attrs_default (CS_OP_SOFTMAX);
  sa.axis.axis = 1;
  int32_t sm = r >= 0 ? cs_graph_add_op (h, CS_OP_SOFTMAX, "sm", "Softmax", &r, 1, &sa, &err) : -1;
  if (sm >= 0)
    {
      const char *p3 = join (dir, "c.json");
      CHECK (cs_model_json_save (h, p3, &err) == CS_ERR_UNSUPPORTED && strstr (err.message, "'sm'") != NULL
             && access (p3, F_OK) != 0, "unsupported op: %s", err.message);
    }
  cs_graph_unref (h);
  CHECK (count_entries (dir) == 2, "no temp files left");

  /* defaults: inputs = previous node */
  h = parse (HEAD "{\"name\":\"a\",\"op\":\"relu\"},{\"name\":\"b\",\"op\":\"sigmoid\"},"
             "{\"name\":\"c\",\"op\":\"concat\",\"inputs\":[\"a\",\"b\",\"input\"],\"axis\":1}]}", &err);
  int32_t b = h != NULL ? cs_graph_find (h, "b") : -1;
  int32_t c = h != NULL ? cs_graph_find (h, "c") : -1;
  CHECK (b >= 0 && c >= 0 && h->nodes[b].inputs[0] == cs_graph_find (h, "a") && h->nodes[c].n_inputs == 3
         && h->nodes[c].shape.dim[1] == 6 && h->nodes[cs_graph_find (h, "a")].inputs[0] == h->input_node,
         "inputs default to the previous node; 'input' names the model input");
  cs_graph_unref (h);

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      err.code = CS_OK;
      err.message[0] = '\0';
      cs_graph *bg = parse (bad[i].text, &err);
      CHECK (bg == NULL && err.code == bad[i].code && strstr (err.message, bad[i].message) != NULL
             && strncmp (err.message, "model.json: ", 12) == 0,
             "rejects %.50s...: %s", bad[i].text + (bad[i].text[0] == '{' && i > 5 ? strlen (HEAD) : 0), err.message);
      cs_graph_unref (bg);
    }
  int crashes = 0;
  for (size_t k = 0; k < size; k++)
    {
      cs_graph *cut = cs_model_json_parse ((const char *) text, k, "cut.json", &err);
      if (cut != NULL || strstr (err.message, "cut.json") == NULL)
        crashes++;
      cs_graph_unref (cut);
    }
  CHECK (crashes == 0, "every truncation of small-model.json is an error naming the file");
  free (text);
  const char *missing = join (dir, "missing.json");
  CHECK (cs_model_json_load (missing, 0, &err) == NULL && err.code == CS_ERR_IO
         && strstr (err.message, "no such file") != NULL, "missing file: %s", err.message);

  remove_tree (dir);
  cs_model_free (m);
  cs_graph_unref (g);
  return test_done ();
}
