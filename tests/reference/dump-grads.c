/* Writes every node's activation and input gradient to .npy files, for tools/grad-bisect.py.
 *
 * Usage: dump-grads MODEL INPUT.npy TARGET.npy OUTDIR.  Runs the model forward on INPUT
 * (N, C, H, W), back-propagates the one-hot seed on TARGET's class per sample (as
 * test-reference does) and writes OUTDIR/manifest.tsv (id, name, source op, input ids) plus
 * OUTDIR/v<id>.npy (activation) and OUTDIR/g<id>.npy (gradient) for each node that has both. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/exec.h"
#include "io/model_load.h"
#include "io/npy.h"

static cs_status
seed_one_hot (const cs_tensor *out, const cs_tensor *target, cs_tensor *seed, cs_error *err)
{
  int64_t n = out->shape.dim[0], classes = out->shape.dim[1];

  if (cs_tensor_numel (target) < n)
    return cs_error_set (err, CS_ERR_SHAPE, "target has %lld entries for a batch of %lld",
                         (long long) cs_tensor_numel (target), (long long) n);
  if (cs_tensor_alloc (seed, &out->shape, err) != CS_OK)
    return err->code;
  for (int64_t i = 0; i < n; i++)
    {
      int64_t t = (int64_t) target->data[i];
      if (t < 0 || t >= classes)
        return cs_error_set (err, CS_ERR_ARGUMENT, "target %lld out of range [0, %lld)",
                             (long long) t, (long long) classes);
      seed->data[i * classes + t] = 1.0f;
    }
  return CS_OK;
}

static cs_status
dump (const cs_exec *e, const cs_graph *g, const char *dir, cs_error *err)
{
  char path[4096];
  FILE *f;

  snprintf (path, sizeof path, "%s/manifest.tsv", dir);
  f = fopen (path, "w");
  if (f == NULL)
    return cs_error_set (err, CS_ERR_IO, "%s: %s", path, strerror (errno));
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      const cs_tensor *v = cs_exec_value (e, id), *gr = cs_exec_grad (e, id);
      if (v == NULL || gr == NULL)
        continue;
      fprintf (f, "%d\t%s\t%s\t", (int) id, n->name, n->source_op ? n->source_op : "-");
      for (int32_t i = 0; i < n->n_inputs; i++)
        fprintf (f, "%s%d", i ? "," : "", (int) n->inputs[i]);
      fputc ('\n', f);
      snprintf (path, sizeof path, "%s/v%d.npy", dir, (int) id);
      if (cs_npy_save (path, v, err) != CS_OK)
        break;
      snprintf (path, sizeof path, "%s/g%d.npy", dir, (int) id);
      if (cs_npy_save (path, gr, err) != CS_OK)
        break;
    }
  if (fclose (f) != 0 && err->code == CS_OK)
    cs_error_set (err, CS_ERR_IO, "%s/manifest.tsv: %s", dir, strerror (errno));
  return err->code;
}

/* Loads, runs forward and backward, dumps; the caller frees what it was given. */
static cs_status
run (char **argv, cs_model **m, cs_exec **e, cs_tensor *input, cs_tensor *target,
     cs_tensor *seed, cs_error *err)
{
  if ((*m = cs_model_load (argv[1], NULL, err)) == NULL
      || cs_npy_load (argv[2], input, err) != CS_OK
      || cs_npy_load (argv[3], target, err) != CS_OK
      || (*e = cs_exec_new (*m, (int32_t) input->shape.dim[0], err)) == NULL
      || cs_exec_forward (*e, input, err) != CS_OK
      || seed_one_hot (cs_exec_value (*e, (*m)->graph->output_node), target, seed, err) != CS_OK
      || cs_exec_backward (*e, (*m)->graph->output_node, seed, CS_GRAD_INPUT, err) != CS_OK)
    return err->code;
  return dump (*e, (*m)->graph, argv[4], err);
}

int
main (int argc, char **argv)
{
  cs_error err = { 0 };
  cs_tensor input = { 0 }, target = { 0 }, seed = { 0 };
  cs_model *m = NULL;
  cs_exec *e = NULL;

  if (argc != 5)
    {
      fprintf (stderr, "usage: %s MODEL INPUT.npy TARGET.npy OUTDIR\n", argv[0]);
      return 2;
    }
  if (mkdir (argv[4], 0755) != 0 && errno != EEXIST)
    {
      fprintf (stderr, "%s: %s\n", argv[4], strerror (errno));
      return 1;
    }
  if (run (argv, &m, &e, &input, &target, &seed, &err) != CS_OK)
    fprintf (stderr, "dump-grads: %s\n", err.message);
  cs_tensor_free (&seed);
  cs_tensor_free (&target);
  cs_tensor_free (&input);
  cs_exec_free (e);
  cs_model_free (m);
  return err.code == CS_OK ? 0 : 1;
}
