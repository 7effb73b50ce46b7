/* Layer names as a PyTorch user knows them: ONNX exports name nodes by module scope
 * ("/layer1/layer1.0/conv1/Conv"); the display name is the module's qualified name
 * ("layer1.0.conv1"), and the exported name stays an alias that lookups accept. */
#include "graph/graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 1024

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Whether name is a scope path "/seg/.../Op" whose segments are non-empty. */
static bool
is_scope_path (const char *name)
{
  if (name[0] != '/' || strlen (name) >= NAME_MAX_LEN)
    return false;
  for (const char *p = name; *p; p++)
    if (p[0] == '/' && (p[1] == '/' || p[1] == '\0'))
      return false;
  return strchr (name, '#') == NULL;
}

/* The qualified module name of the scope segments in scope ("/layer1/layer1.0/conv1"):
 * exporters write a child by its attribute name ("conv1"), appended to its parent's, or by a
 * dotted name that continues the end of the parent's ("layer1" -> "layer1.0", "downsample" ->
 * "downsample.0"), which replaces that end. */
static void
qualify (const char *scope, char *out, size_t size)
{
  out[0] = '\0';
  const char *p = scope;
  while (*p == '/')
    {
      const char *seg = p + 1, *end = strchr (seg, '/');
      size_t len = end != NULL ? (size_t) (end - seg) : strlen (seg);
      size_t have = strlen (out), keep = have;
      /* the longest tail of out, at a dot boundary, that seg continues with "." */
      for (size_t start = 0; start < have; start++)
        {
          if (start > 0 && out[start - 1] != '.')
            continue;
          size_t tail = have - start;
          if (len > tail && strncmp (seg, out + start, tail) == 0 && seg[tail] == '.')
            {
              keep = start;
              break;
            }
        }
      if (keep < have || have == 0)
        snprintf (out + keep, size - keep, "%.*s", (int) len, seg);
      else if (have + 1 + len < size)
        snprintf (out + have, size - have, ".%.*s", (int) len, seg);
      p = seg + len;
    }
}

/* Scopes that hold deeper scopes (modules with children: "/layer1", "/layer1/layer1.0"):
 * an op directly in such a scope is the container's own (a residual Add), not a leaf module. */
static char **
container_scopes (const cs_graph *g, int32_t *count)
{
  char **set = NULL;
  int32_t n = 0, cap = 0;
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      const char *name = g->nodes[i].name;
      if (!is_scope_path (name))
        continue;
      const char *last = strrchr (name, '/');
      /* every proper ancestor of the node's own scope */
      for (const char *p = strchr (name + 1, '/'); p != NULL && p < last; p = strchr (p + 1, '/'))
        {
          if (n == cap)
            {
              cap = cap ? cap * 2 : 64;
              char **s = realloc (set, sizeof *s * (size_t) cap);
              if (s == NULL)
                break;
              set = s;
            }
          if ((set[n] = strndup (name, (size_t) (p - name))) != NULL)
            n++;
        }
    }
  if (n > 0)
    qsort (set, (size_t) n, sizeof *set, compare_strings);
  *count = n;
  return set;
}

static bool
name_taken (const cs_graph *g, const char *name)
{
  for (int32_t i = 0; i < g->n_nodes; i++)
    if (strcmp (g->nodes[i].name, name) == 0
        || (g->nodes[i].alias != NULL && strcmp (g->nodes[i].alias, name) == 0))
      return true;
  return false;
}

/* The display name of an op node, or "" when it keeps its own. */
static void
derive (const cs_node *n, char **containers, int32_t n_containers, char *out, size_t size)
{
  out[0] = '\0';
  if (!is_scope_path (n->name))
    return;
  const char *last = strrchr (n->name, '/');
  char scope[NAME_MAX_LEN];
  snprintf (scope, sizeof scope, "%.*s", (int) (last - n->name), n->name);
  const char *key = scope;
  bool container = scope[0] == '\0'
                   || (n_containers > 0 && bsearch (&key, containers, (size_t) n_containers,
                                                    sizeof *containers, compare_strings) != NULL);
  char module[NAME_MAX_LEN];
  qualify (scope, module, sizeof module);
  if (!container)
    {
      snprintf (out, size, "%s", module);
      return;
    }
  /* The container's own op: "layer1.0.add", "flatten" (the op segment in lower case). */
  char op[NAME_MAX_LEN];
  size_t k = 0;
  for (const char *p = last + 1; *p && k + 1 < sizeof op; p++)
    op[k++] = (char) tolower ((unsigned char) *p);
  op[k] = '\0';
  if (module[0] != '\0')
    snprintf (out, size, "%s.%s", module, op);
  else
    snprintf (out, size, "%s", op);
}

void
cs_graph_derive_display_names (cs_graph *g)
{
  int32_t n_containers = 0;
  char **containers = container_scopes (g, &n_containers);
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      cs_node *n = &g->nodes[i];
      if (n->op == CS_OP_INPUT || n->op == CS_OP_PARAM || n->op == CS_OP_CONST || n->alias != NULL)
        continue;
      char display[2 * NAME_MAX_LEN + 2]; /* module "." op */
      derive (n, containers, n_containers, display, sizeof display);
      /* A name already in use (another node's, or another display name) stays unchanged. */
      if (display[0] == '\0' || name_taken (g, display))
        continue;
      char *copy = strdup (display);
      if (copy == NULL)
        continue;
      n->alias = n->name;
      n->name = copy;
    }
  for (int32_t i = 0; i < n_containers; i++)
    free (containers[i]);
  free (containers);
}
