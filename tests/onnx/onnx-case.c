/* Helpers shared by the ONNX tests: see onnx-case.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx/onnx.pb-c.h"
#include "onnx-case.h"

uint8_t *
onnx_test_read_file (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) != 0 || (n = ftell (f)) < 0 || n > (1L << 30) || fseek (f, 0, SEEK_SET) != 0)
    {
      fclose (f);
      return NULL;
    }
  buf = malloc ((size_t) n + 1);
  if (buf != NULL && fread (buf, 1, (size_t) n, f) != (size_t) n)
    {
      free (buf);
      buf = NULL;
    }
  fclose (f);
  *size = (size_t) n;
  return buf;
}

bool
onnx_test_read_tensor (const char *path, cs_tensor *t, char *why, size_t why_size)
{
  size_t size;
  uint8_t *buf = onnx_test_read_file (path, &size);
  Onnx__TensorProto *tp;
  int64_t dims[CS_MAX_DIMS];
  cs_shape s;
  bool ok = false;

  if (buf == NULL)
    {
      snprintf (why, why_size, "cannot read %s", path);
      return false;
    }
  tp = onnx__tensor_proto__unpack (NULL, size, buf);
  free (buf);
  if (tp == NULL)
    {
      snprintf (why, why_size, "%s: not a TensorProto", path);
      return false;
    }
  if (tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    snprintf (why, why_size, "tensor of data type %d (not FLOAT)", tp->data_type);
  else if (tp->n_dims > CS_MAX_DIMS)
    snprintf (why, why_size, "tensor of rank %zu", tp->n_dims);
  else
    {
      cs_error err = { 0 };
      for (size_t k = 0; k < tp->n_dims; k++)
        dims[k] = tp->dims[k];
      s = cs_shape_make ((int32_t) tp->n_dims, dims);
      if (cs_tensor_alloc (t, &s, &err) != CS_OK)
        snprintf (why, why_size, "%s", err.message);
      else if (tp->has_raw_data && tp->raw_data.len == (size_t) cs_tensor_numel (t) * 4)
        {
          if (tp->raw_data.len > 0)
            memcpy (t->data, tp->raw_data.data, tp->raw_data.len);
          ok = true;
        }
      else if (!tp->has_raw_data && tp->n_float_data == (size_t) cs_tensor_numel (t))
        {
          if (tp->n_float_data > 0)
            memcpy (t->data, tp->float_data, tp->n_float_data * 4);
          ok = true;
        }
      else
        snprintf (why, why_size, "tensor data size does not match its dims");
      if (!ok)
        cs_tensor_free (t);
    }
  onnx__tensor_proto__free_unpacked (tp, NULL);
  return ok;
}

cs_model *
onnx_test_load_case (const char *dir, const char *set_dir, cs_error *err)
{
  char path[1024], label[1024];
  size_t size;
  uint8_t *buf;
  Onnx__ModelProto *mp;
  Onnx__TensorProto **extra = NULL, **saved_init;
  size_t n_extra = 0, saved_n;
  cs_model *m = NULL;

  snprintf (path, sizeof path, "%s/model.onnx", dir);
  snprintf (label, sizeof label, "%s", path);
  buf = onnx_test_read_file (path, &size);
  if (buf == NULL)
    {
      cs_error_set (err, CS_ERR_IO, "%s: cannot read", path);
      return NULL;
    }
  mp = onnx__model_proto__unpack (NULL, size, buf);
  if (mp == NULL || mp->graph == NULL)
    {
      /* Let the importer produce its own message. */
      if (mp)
        onnx__model_proto__free_unpacked (mp, NULL);
      m = cs_onnx_load_memory (buf, size, label, err);
      free (buf);
      return m;
    }

  {
    Onnx__GraphProto *g = mp->graph;
    int32_t k_input = 0;
    extra = calloc (g->n_input + 1, sizeof *extra);
    for (size_t k = 0; k < g->n_input; k++)
      {
        bool is_init = false;
        for (size_t j = 0; j < g->n_initializer; j++)
          if (g->initializer[j]->name && strcmp (g->initializer[j]->name, g->input[k]->name) == 0)
            is_init = true;
        if (is_init)
          continue;
        if (k_input++ == 0)
          continue;
        {
          char p[1100];
          size_t ts;
          uint8_t *tb;
          snprintf (p, sizeof p, "%s/input_%d.pb", set_dir, k_input - 1);
          tb = onnx_test_read_file (p, &ts);
          if (tb == NULL)
            continue;
          extra[n_extra] = onnx__tensor_proto__unpack (NULL, ts, tb);
          free (tb);
          if (extra[n_extra] == NULL)
            continue;
          free (extra[n_extra]->name);
          extra[n_extra]->name = strdup (g->input[k]->name);
          n_extra++;
        }
      }
    saved_init = g->initializer;
    saved_n = g->n_initializer;
    if (n_extra > 0)
      {
        Onnx__TensorProto **all = calloc (saved_n + n_extra, sizeof *all);
        size_t packed_size;
        uint8_t *packed;
        if (saved_n > 0)
          memcpy (all, saved_init, saved_n * sizeof *all);
        memcpy (all + saved_n, extra, n_extra * sizeof *all);
        g->initializer = all;
        g->n_initializer = saved_n + n_extra;
        packed_size = onnx__model_proto__get_packed_size (mp);
        packed = malloc (packed_size + 1);
        onnx__model_proto__pack (mp, packed);
        g->initializer = saved_init;
        g->n_initializer = saved_n;
        free (all);
        m = cs_onnx_load_memory (packed, packed_size, label, err);
        free (packed);
      }
    else
      m = cs_onnx_load_memory (buf, size, label, err);
  }
  for (size_t k = 0; k < n_extra; k++)
    onnx__tensor_proto__free_unpacked (extra[k], NULL);
  free (extra);
  onnx__model_proto__free_unpacked (mp, NULL);
  free (buf);
  return m;
}
