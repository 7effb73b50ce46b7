/* CsGraphBlocks: repeated blocks of a layer graph from its display names' prefixes. */
#include "config.h"

#include <string.h>

#include "cs-graph-blocks.h"

static gboolean
ends_in_digit (const char *s, gsize len)
{
  return len > 0 && g_ascii_isdigit (s[len - 1]);
}

void
cs_graph_block_keys (const char *name, char **outer, char **inner)
{
  const char *p = name;
  gsize outer_len = 0;

  if (outer != NULL)
    *outer = NULL;
  if (inner != NULL)
    *inner = NULL;
  /* Walk the components; stop at the first one ending in a digit that is not the last. */
  while (p != NULL && *p != '\0')
    {
      const char *dot = strchr (p, '.');
      if (dot == NULL)
        return;                /* the last component is the node itself */
      if (ends_in_digit (p, (gsize) (dot - p)))
        {
          outer_len = (gsize) (dot - name);
          p = dot + 1;
          break;
        }
      p = dot + 1;
    }
  if (outer_len == 0)
    return;
  if (outer != NULL)
    *outer = g_strndup (name, outer_len);
  {
    const char *dot = strchr (p, '.');
    if (dot != NULL && ends_in_digit (p, (gsize) (dot - p)) && inner != NULL)
      *inner = g_strndup (name, (gsize) (dot - name));
  }
}

static int
block_index (CsGraphBlocks *self, GHashTable *index, const char *key, int parent)
{
  gpointer found;
  CsGraphBlock b = { 0 };

  if (g_hash_table_lookup_extended (index, key, NULL, &found))
    return GPOINTER_TO_INT (found);
  b.key = g_strdup (key);
  b.parent = parent;
  b.last_node = -1;
  g_array_append_val (self->blocks, b);
  g_hash_table_insert (index, b.key, GINT_TO_POINTER ((int) self->blocks->len - 1));
  return (int) self->blocks->len - 1;
}

CsGraphBlocks *
cs_graph_blocks_new (const cs_graph *g, gboolean (*shown) (const cs_node *n), gboolean collapse)
{
  CsGraphBlocks *self = g_new0 (CsGraphBlocks, 1);
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);

  self->blocks = g_array_new (FALSE, TRUE, sizeof (CsGraphBlock));
  self->n_nodes = g->n_nodes;
  self->outer = g_new (int, g->n_nodes);
  self->inner = g_new (int, g->n_nodes);
  for (int id = 0; id < g->n_nodes; id++)
    {
      g_autofree char *outer = NULL, *inner = NULL;

      self->outer[id] = self->inner[id] = -1;
      if (!shown (&g->nodes[id]))
        continue;
      cs_graph_block_keys (g->nodes[id].name, &outer, &inner);
      if (outer == NULL)
        continue;
      self->outer[id] = block_index (self, index, outer, -1);
      if (inner != NULL)
        self->inner[id] = block_index (self, index, inner, self->outer[id]);
      for (int level = 0; level < 2; level++)
        {
          int b = level == 0 ? self->outer[id] : self->inner[id];
          if (b >= 0)
            {
              CsGraphBlock *blk = &g_array_index (self->blocks, CsGraphBlock, b);
              blk->n_members++;
              blk->last_node = id;
            }
        }
    }
  /* A single node is no block; nor is an inner block that is its whole outer block. */
  for (int id = 0; id < g->n_nodes; id++)
    {
      if (self->inner[id] >= 0)
        {
          const CsGraphBlock *in = &g_array_index (self->blocks, CsGraphBlock, self->inner[id]);
          const CsGraphBlock *out = &g_array_index (self->blocks, CsGraphBlock, in->parent);
          if (in->n_members < 2 || in->n_members == out->n_members)
            self->inner[id] = -1;
        }
      if (self->outer[id] >= 0
          && g_array_index (self->blocks, CsGraphBlock, self->outer[id]).n_members < 2)
        self->outer[id] = -1;
    }
  for (guint b = 0; b < self->blocks->len; b++)
    g_array_index (self->blocks, CsGraphBlock, b).expanded = !collapse;
  return self;
}

void
cs_graph_blocks_free (CsGraphBlocks *self)
{
  if (self == NULL)
    return;
  for (guint b = 0; b < self->blocks->len; b++)
    g_free (g_array_index (self->blocks, CsGraphBlock, b).key);
  g_array_unref (self->blocks);
  g_free (self->outer);
  g_free (self->inner);
  g_free (self);
}

int
cs_graph_blocks_collapsed_at (const CsGraphBlocks *self, int node)
{
  if (self == NULL || node < 0 || node >= self->n_nodes)
    return -1;
  if (self->outer[node] >= 0 && !g_array_index (self->blocks, CsGraphBlock, self->outer[node]).expanded)
    return self->outer[node];
  if (self->inner[node] >= 0 && !g_array_index (self->blocks, CsGraphBlock, self->inner[node]).expanded)
    return self->inner[node];
  return -1;
}

gboolean
cs_graph_blocks_reveal (CsGraphBlocks *self, int node)
{
  gboolean changed = FALSE;

  if (self == NULL || node < 0 || node >= self->n_nodes)
    return FALSE;
  for (int level = 0; level < 2; level++)
    {
      int b = level == 0 ? self->outer[node] : self->inner[node];
      if (b >= 0 && !g_array_index (self->blocks, CsGraphBlock, b).expanded)
        {
          g_array_index (self->blocks, CsGraphBlock, b).expanded = TRUE;
          changed = TRUE;
        }
    }
  return changed;
}

int
cs_graph_blocks_depth (const CsGraphBlocks *self, int b)
{
  return g_array_index (self->blocks, CsGraphBlock, b).parent >= 0 ? 1 : 0;
}
