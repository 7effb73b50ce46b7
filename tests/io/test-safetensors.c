/* safetensors: PyTorch-layout fixtures in every float dtype, round trips, and headers that lie. */
#include "io/model_json.h"
#include "io/safetensors.h"
#include "iotest.h"
#include "testlib.h"

static uint8_t st_buf[4096];

/* A file of the given header and n_data bytes of data; returns its size. */
static size_t
make_file (const char *header, size_t n_data)
{
  size_t n = strlen (header);
  for (int i = 0; i < 8; i++)
    st_buf[i] = (uint8_t) ((uint64_t) n >> (8 * i));
  memcpy (st_buf + 8, header, n);
  memset (st_buf + 8 + n, 0, n_data);
  return 8 + n + n_data;
}

static bool
weights_equal (const cs_model *a, const cs_model *b)
{
  for (int32_t p = 0; p < a->graph->n_params; p++)
    if (memcmp (a->weights[p].data, b->weights[p].data,
                sizeof (float) * (size_t) cs_tensor_numel (&a->weights[p])) != 0)
      return false;
  return true;
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *m = cs_model_json_load (data_path ("small-model.json"), 1, &err);
  CHECK (m != NULL, "small-model.json loads (%s)", m ? "ok" : err.message);
  if (m == NULL)
    return test_done ();
  cs_model *init = cs_model_clone (m, NULL);

  CHECK (cs_safetensors_apply (m, data_path ("small-model.safetensors"), false, &err) == CS_OK,
         "PyTorch state_dict (F32, with an I64 num_batches_tracked) applies: %s",
         err.code ? err.message : "ok");

  /* every float dtype, values exact in all of them */
  const char *order[] = { "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
                          "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                          "conv2.weight", "fc1.weight", "fc1.bias", "fc.weight", "fc.bias" };
  CHECK (cs_safetensors_apply (m, data_path ("small-model-dtypes.safetensors"), false, &err)
         == CS_OK, "F16/BF16/F64/F32 file applies: %s", err.code ? err.message : "ok");
  int wrong = 0;
  for (int i = 0; i < 12; i++)
    {
      int32_t p = cs_model_param_index (m, order[i]);
      if (i == 6)
        continue;
      if (p < 0)
        {
          wrong++;
          continue;
        }
      for (int64_t j = 0; j < cs_tensor_numel (&m->weights[p]); j++)
        if (m->weights[p].data[j] != (float) ((j * 7 + i) % 23 - 11) / 8)
          wrong++;
    }
  CHECK (wrong == 0, "converted values are exact (%d wrong)", wrong);

  /* round trip */
  char *dir = scratch_dir ();
  const char *out = join (dir, "w.safetensors");
  CHECK (cs_safetensors_save (init, out, &err) == CS_OK, "save");
  size_t size;
  uint8_t *raw = read_bytes (out, &size);
  uint64_t hlen = 0;
  for (int i = 7; raw != NULL && i >= 0; i--)
    hlen = hlen << 8 | raw[i];
  CHECK (raw != NULL && hlen % 8 == 0 && memmem (raw, size, "__metadata__", 12) != NULL,
         "header padded to 8 bytes, with __metadata__");
  free (raw);
  CHECK (cs_safetensors_apply (m, out, false, &err) == CS_OK && weights_equal (m, init),
         "saved weights apply back bit for bit");
  CHECK (count_entries (dir) == 1, "no temp file left");
  mkdir (join (dir, "d.safetensors"), 0755);
  CHECK (cs_safetensors_save (init, join (dir, "d.safetensors"), &err) == CS_ERR_IO
         && count_entries (dir) == 2, "failed save leaves nothing: %s", err.message);

  /* partial files */
  size_t n = make_file ("{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,20]}}",
                        20);
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "part.st", false, &err) == CS_ERR_FORMAT
         && strstr (err.message, "missing") != NULL && names_file (&err, "part.st"),
         "missing parameters are an error: %s", err.message);
  CHECK (weights_equal (m, init), "a failed apply leaves the weights alone");
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "part.st", true, &err) == CS_OK,
         "unless allow_missing");
  n = make_file ("{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", 24);
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "shape.st", true, &err) == CS_ERR_SHAPE
         && strstr (err.message, "fc.bias") != NULL, "wrong shape: %s", err.message);
  n = make_file ("{\"fc.bias\":{\"dtype\":\"I32\",\"shape\":[5],\"data_offsets\":[0,20]}}", 20);
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "int.st", true, &err) == CS_ERR_UNSUPPORTED,
         "integer dtype for a parameter: %s", err.message);
  n = make_file ("{\"other\":{\"dtype\":\"I32\",\"shape\":[5],\"data_offsets\":[0,20]}}", 20);
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "int.st", true, &err) == CS_OK,
         "integer tensors the model lacks are ignored");

  /* headers that lie: each a format (or limit) error naming the file and tensor */
  static const struct {
    const char *header;
    size_t data;
    cs_status code;
    const char *what;
  } lies[] = {
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, CS_ERR_FORMAT, "end past the data" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,4]}}", 16, CS_ERR_FORMAT, "end before begin" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16, CS_ERR_FORMAT, "length vs shape" },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "length vs dtype" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16, CS_ERR_FORMAT, "overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000,1000000],\"data_offsets\":[0,16]}}", 16, CS_ERR_LIMIT, "10^12 elements" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "1e300 dim" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "negative dim" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0.5,16]}}", 16, CS_ERR_FORMAT, "fractional offset" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-16,0]}}", 16, CS_ERR_FORMAT, "negative offset" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]}}", 16, CS_ERR_FORMAT, "one offset" },
    { "{\"a\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "unknown dtype" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "shape not a list" },
    { "{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 16, CS_ERR_FORMAT, "no dtype" },
    { "{\"a\":[1,2]}", 16, CS_ERR_FORMAT, "entry not an object" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 16, CS_ERR_UNSUPPORTED, "7 dims" },
    { "{\"__metadata__\":[1]}", 0, CS_ERR_FORMAT, "metadata not an object" },
    { "[1,2,3]", 0, CS_ERR_FORMAT, "header a list" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}} xx", 16, CS_ERR_FORMAT, "trailing bytes" },
    { "{\"a\":", 16, CS_ERR_FORMAT, "cut JSON" },
  };
  for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++)
    {
      n = make_file (lies[i].header, lies[i].data);
      cs_status st = cs_safetensors_apply_memory (m, st_buf, n, "lie.safetensors", true, &err);
      bool named = names_file (&err, "lie.safetensors");
      CHECK (st == lies[i].code && named, "%s: %s", lies[i].what, err.message);
    }
  /* the length field itself */
  n = make_file ("{}", 0);
  st_buf[0] = 200;
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "len.st", true, &err) == CS_ERR_FORMAT,
         "header length past the file: %s", err.message);
  memset (st_buf, 0xff, 8);
  CHECK (cs_safetensors_apply_memory (m, st_buf, n, "len.st", true, &err) == CS_ERR_FORMAT,
         "header length 2^64-1");
  /* every truncation of a real file */
  raw = read_bytes (data_path ("small-model.safetensors"), &size);
  int bad = 0;
  for (size_t k = 0; raw != NULL && k < size; k++)
    {
      cs_status st = cs_safetensors_apply_memory (m, raw, k, "cut.safetensors", false, &err);
      if (st != CS_ERR_FORMAT || !names_file (&err, "cut.safetensors"))
        bad++;
    }
  CHECK (raw != NULL && bad == 0, "all %zu truncations are format errors (%d not)", size, bad);
  /* flipped bytes in the header never crash: each copy loads or is a format error naming the file */
  int ok_count = 0, flips_wrong = 0;
  for (size_t k = 8; raw != NULL && k < 8 + 200 && k < size; k++)
    {
      uint8_t *copy = malloc (size);
      memcpy (copy, raw, size);
      copy[k] ^= 0x5a;
      cs_status st = cs_safetensors_apply_memory (m, copy, size, "flip.st", false, &err);
      if (st == CS_OK)
        ok_count++;
      else if (st != CS_ERR_FORMAT || !names_file (&err, "flip.st"))
        flips_wrong++;
      free (copy);
    }
  CHECK (raw != NULL && flips_wrong == 0,
         "bit flips in the header: %d still valid, the rest format errors (%d not)", ok_count, flips_wrong);
  free (raw);
  const char *garbage = join (dir, "garbage.safetensors");
  write_bytes (garbage, "this is not a safetensors file at all", 37);
  CHECK (cs_safetensors_apply (m, garbage, false, &err) == CS_ERR_FORMAT
         && names_file (&err, garbage), "garbage file: %s", err.message);
  write_bytes (garbage, "abc", 3);
  CHECK (cs_safetensors_apply (m, garbage, false, &err) == CS_ERR_FORMAT, "3-byte file");
  const char *missing = join (dir, "missing.safetensors");
  CHECK (cs_safetensors_apply (m, missing, false, &err) == CS_ERR_IO
         && strstr (err.message, "no such file") != NULL && names_file (&err, missing),
         "missing file: %s", err.message);
  CHECK (cs_safetensors_apply (m, dir, false, &err) == CS_ERR_IO, "a directory");

  remove_tree (dir);
  cs_model_free (init);
  cs_model_free (m);
  return test_done ();
}
