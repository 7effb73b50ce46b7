/* Malformed and unsupported ONNX input: truncated files, garbage, absurd initializer sizes,
 * unknown operators, byte flips. Each must fail with one line naming the file and the reason,
 * and never crash (run under ASan/UBSan in CI). */
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "io/onnx.h"
#include "io/onnx/onnx.pb-c.h"
#include "testlib.h"

#define LABEL "test-model.onnx"

/* A tiny classifier: x[N,3,8,8] -> Conv(4, 3x3, pad 1) -> Relu -> op2 -> output. */
typedef struct {
  const char *op2;              /* "Relu" or an unsupported op */
  int64_t w_dims[4];
  int32_t w_ndim;
  bool w_data;                  /* fill float_data */
  const char *h_param;          /* symbolic H, or NULL */
  int64_t opset;
  bool external;
} model_spec;

static uint8_t *
build_model (const model_spec *spec, size_t *size)
{
  Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT, *ops[1] = { &op };
  Onnx__NodeProto conv = ONNX__NODE_PROTO__INIT, relu = ONNX__NODE_PROTO__INIT;
  Onnx__NodeProto *nodes[2] = { &conv, &relu };
  Onnx__AttributeProto pads = ONNX__ATTRIBUTE_PROTO__INIT, *conv_attrs[1] = { &pads };
  int64_t pads_v[4] = { 1, 1, 1, 1 };
  Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT, *inits[1] = { &w };
  Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *locs[1] = { &loc };
  Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
  Onnx__ValueInfoProto *ins[1] = { &in }, *outs[1] = { &out };
  Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
  Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
  Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
  Onnx__TensorShapeProto__Dimension d[4], *dp[4];
  char *conv_in[2] = { "x", "conv1.weight" }, *conv_out[1] = { "c" };
  char *relu_in[1] = { "c" }, *relu_out[1] = { "y" };
  float *wdata = NULL;
  uint8_t *buf;
  int64_t numel = 1;

  op.domain = "";
  op.has_version = 1;
  op.version = spec->opset;
  m.has_ir_version = 1;
  m.ir_version = 8;
  m.n_opset_import = 1;
  m.opset_import = ops;
  m.graph = &g;

  conv.op_type = "Conv";
  conv.name = "conv1";
  conv.n_input = 2;
  conv.input = conv_in;
  conv.n_output = 1;
  conv.output = conv_out;
  pads.name = "pads";
  pads.has_type = 1;
  pads.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  pads.n_ints = 4;
  pads.ints = pads_v;
  conv.n_attribute = 1;
  conv.attribute = conv_attrs;
  relu.op_type = (char *) spec->op2;
  relu.name = "act";
  relu.n_input = 1;
  relu.input = relu_in;
  relu.n_output = 1;
  relu.output = relu_out;
  g.n_node = 2;
  g.node = nodes;

  w.name = "conv1.weight";
  w.has_data_type = 1;
  w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  w.n_dims = (size_t) spec->w_ndim;
  w.dims = (int64_t *) spec->w_dims;
  for (int k = 0; k < spec->w_ndim; k++)
    numel *= spec->w_dims[k];
  if (spec->w_data)
    {
      wdata = calloc ((size_t) numel, sizeof *wdata);
      for (int64_t k = 0; k < numel; k++)
        wdata[k] = (float) ((k * 7) % 11 - 5) / 10.0f;
      w.n_float_data = (size_t) numel;
      w.float_data = wdata;
    }
  if (spec->external)
    {
      loc.key = "location";
      loc.value = "weights.bin";
      w.n_external_data = 1;
      w.external_data = locs;
      w.has_data_location = 1;
      w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
      w.n_float_data = 0;
    }
  g.n_initializer = 1;
  g.initializer = inits;

  for (int k = 0; k < 4; k++)
    {
      Onnx__TensorShapeProto__Dimension di = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
      d[k] = di;
      d[k].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d[k].dim_value = k == 0 ? 1 : k == 1 ? 3 : 8;
      dp[k] = &d[k];
    }
  d[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  d[0].dim_param = "N";
  if (spec->h_param)
    {
      d[2].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d[2].dim_param = (char *) spec->h_param;
    }
  shape.n_dim = 4;
  shape.dim = dp;
  tt.has_elem_type = 1;
  tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt.shape = &shape;
  type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type.tensor_type = &tt;
  in.name = "x";
  in.type = &type;
  out.name = "y";
  g.n_input = 1;
  g.input = ins;
  g.n_output = 1;
  g.output = outs;

  *size = onnx__model_proto__get_packed_size (&m);
  buf = malloc (*size);
  onnx__model_proto__pack (&m, buf);
  free (wdata);
  return buf;
}

static const model_spec good = { "Relu", { 4, 3, 3, 3 }, 4, true, NULL, 13, false };

/* The load must fail with a one-line message naming the file (and containing want). */
static void
expect_error (const char *what, const uint8_t *data, size_t size, const char *want)
{
  cs_error err = { 0 };
  cs_model *m = cs_onnx_load_memory (data, size, LABEL, &err);
  bool named = strstr (err.message, LABEL) == err.message;
  bool one_line = strchr (err.message, '\n') == NULL && err.message[0] != '\0';

  CHECK (m == NULL && err.code != CS_OK && named && one_line
         && (want == NULL || strstr (err.message, want) != NULL), "%s: %s", what, err.message);
  cs_model_free (m);
}

int
main (void)
{
  size_t size;
  uint8_t *buf = build_model (&good, &size);
  cs_error err = { 0 };
  cs_model *m;
  cs_rng rng;

  m = cs_onnx_load_memory (buf, size, LABEL, &err);
  CHECK (m != NULL, "the well-formed model loads%s%s", m ? "" : ": ", m ? "" : err.message);
  if (m != NULL)
    {
      CHECK (m->graph->n_params == 1 && cs_model_param_index (m, "conv1.weight") == 0
             && m->weights[0].data[1] == (float) ((7 % 11) - 5) / 10.0f,
             "the initializer becomes parameter conv1.weight with its data");
      CHECK (m->channels == 3 && m->height == 8 && m->width == 8, "input is 3x8x8");
      cs_model_free (m);
    }

  /* Truncated at several offsets (including an empty file). */
  {
    size_t cuts[] = { 0, 1, 2, 5, 17, size / 4, size / 3, size / 2, size - 20, size - 2, size - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++)
      {
        char what[64];
        snprintf (what, sizeof what, "truncated at %zu of %zu bytes", cuts[k], size);
        expect_error (what, buf, cuts[k], NULL);
      }
  }

  /* Random garbage. */
  cs_rng_seed (&rng, 1234);
  for (int k = 0; k < 20; k++)
    {
      size_t n = 1 + (size_t) (cs_rng_next (&rng) % 2000);
      uint8_t *g = malloc (n);
      char what[64];
      for (size_t j = 0; j < n; j++)
        g[j] = (uint8_t) cs_rng_next (&rng);
      snprintf (what, sizeof what, "%zu bytes of garbage", n);
      expect_error (what, g, n, NULL);
      free (g);
    }

  /* Byte flips of the good model: anything may happen except a crash or a silent bad result. */
  {
    int loaded = 0, failed = 0;
    for (int k = 0; k < 300; k++)
      {
        uint8_t *c = malloc (size);
        memcpy (c, buf, size);
        for (int j = 0; j < 3; j++)
          c[cs_rng_next (&rng) % size] ^= (uint8_t) (1u << (cs_rng_next (&rng) % 8));
        m = cs_onnx_load_memory (c, size, LABEL, &err);
        if (m)
          loaded++;
        else
          failed += strstr (err.message, LABEL) == err.message;
        cs_model_free (m);
        free (c);
      }
    CHECK (loaded + failed == 300, "300 byte-flipped models: %d load, %d fail with a named error",
           loaded, failed);
  }
  free (buf);

  {
    model_spec s = good;
    s.w_dims[0] = s.w_dims[1] = s.w_dims[2] = 100000;
    s.w_ndim = 3;
    s.w_data = false;
    buf = build_model (&s, &size);
    expect_error ("[100000,100000,100000] initializer", buf, size, "conv1.weight");
    free (buf);
  }
  {
    model_spec s = good;
    s.w_data = false;
    buf = build_model (&s, &size);
    expect_error ("initializer without data", buf, size, "conv1.weight");
    free (buf);
  }
  {
    model_spec s = good;
    s.op2 = "Foo";
    buf = build_model (&s, &size);
    expect_error ("unsupported op", buf, size, "node 1 (Foo 'act'): unsupported operator Foo (opset 13)");
    free (buf);
  }
  {
    model_spec s = good;
    s.external = true;
    buf = build_model (&s, &size);
    expect_error ("external data", buf, size, "external data");
    free (buf);
  }
  {
    model_spec s = good;
    s.h_param = "H";
    buf = build_model (&s, &size);
    expect_error ("symbolic height", buf, size, "'H'");
    free (buf);
  }
  {
    model_spec s = good;
    s.opset = 3;
    buf = build_model (&s, &size);
    expect_error ("opset 3", buf, size, "opset 3");
    free (buf);
  }
  {
    model_spec s = good;
    s.w_dims[1] = 5; /* weight expects 5 input channels, the input has 3 */
    buf = build_model (&s, &size);
    expect_error ("channel mismatch", buf, size, "node 0 (Conv 'conv1')");
    free (buf);
  }

  /* A fuzzer's find: Gather with repeated constant indices asked load-time folding for 14 GB. */
  m = cs_onnx_load (FUZZ_ONNX_CORPUS "/gather-repeated-indices-14gb.onnx", &err);
  CHECK (m == NULL && err.code == CS_ERR_LIMIT && strstr (err.message, "Gather beyond") != NULL
         && strchr (err.message, '\n') == NULL, "Gather folding bounded: %s", err.message);
  cs_model_free (m);

  m = cs_onnx_load ("/nonexistent/model.onnx", &err);
  CHECK (m == NULL && err.code == CS_ERR_IO && strstr (err.message, "/nonexistent/model.onnx"),
         "missing file: %s", err.message);
  return test_done ();
}
