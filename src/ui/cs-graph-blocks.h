/* CsGraphBlocks: the repeated blocks of a graph (ResNet's layer1 > layer1.0, DenseNet's
 * denseblock1 > denselayer1), derived from the PyTorch-style display names, with which of them
 * the layer graph shows collapsed. */
#pragma once

#include <glib.h>

#include "graph/graph.h"

G_BEGIN_DECLS

typedef struct
{
  char *key;                   /* the name prefix: "layer1.0", "features.denseblock1" */
  int parent;                  /* the enclosing block, or -1 */
  int n_members;               /* shown nodes inside (nested blocks' included) */
  int last_node;               /* the member with the highest id: the block's output shape */
  gboolean expanded;
} CsGraphBlock;

typedef struct
{
  GArray *blocks;              /* CsGraphBlock */
  int *outer, *inner;          /* per node: its block at each level, or -1 */
  int n_nodes;
} CsGraphBlocks;

/* The block prefixes of a display name: outer ends at the first dot-separated component that
 * ends in a digit ("layer1", "features.denseblock1", "features.3"), inner at the component
 * right after it when that one ends in a digit too ("layer1.0", "...denseblock1.denselayer2").
 * A prefix is only a block when more follows it. Either may be NULL. */
void cs_graph_block_keys (const char *name, char **outer, char **inner);

/* Blocks of at least two shown nodes (shown: which nodes the view draws); an inner block that
 * holds all of its outer block is dropped. All start collapsed when collapse is TRUE. */
CsGraphBlocks *cs_graph_blocks_new (const cs_graph *g, gboolean (*shown) (const cs_node *n),
                                    gboolean collapse);
void cs_graph_blocks_free (CsGraphBlocks *self);
/* The outermost collapsed block holding node, or -1 when the node is shown itself. */
int cs_graph_blocks_collapsed_at (const CsGraphBlocks *self, int node);
/* Expands every block holding node (so that it is shown). Returns whether any was collapsed. */
gboolean cs_graph_blocks_reveal (CsGraphBlocks *self, int node);
/* How deep block b is nested (0 for an outer block). */
int cs_graph_blocks_depth (const CsGraphBlocks *self, int b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGraphBlocks, cs_graph_blocks_free)

G_END_DECLS
