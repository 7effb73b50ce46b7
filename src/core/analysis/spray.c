/* Spectral relevance analysis (SpRAy, Lapuschkin et al. 2019): spectral clustering of
 * attribution maps over a k-nearest-neighbour graph, the cluster count by the eigengap, and
 * k-means on the normalised spectral embedding (Ng, Jordan and Weiss 2001). */
#include "analysis/shortcuts.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Neighbours per map: SpRAy's kNN affinity, capped for small classes. */
#define SPRAY_NEIGHBOURS 10
#define KMEANS_ITERATIONS 100

/* Symmetric binary kNN affinity: i and j are linked when either is among the other's k nearest. */
static void
knn_affinity (const double *dist, int32_t n, int32_t k, double *w)
{
  memset (w, 0, (size_t) n * (size_t) n * sizeof *w);
  for (int32_t i = 0; i < n; i++)
    for (int32_t r = 0; r < k; r++)
      {
        int32_t best = -1;
        for (int32_t j = 0; j < n; j++)
          if (j != i && w[(size_t) i * n + j] == 0.0
              && (best < 0 || dist[(size_t) i * n + j] < dist[(size_t) i * n + best]))
            best = j;
        if (best >= 0)
          w[(size_t) i * n + best] = 1.0;
      }
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < i; j++)
      {
        double v = w[(size_t) i * n + j] != 0.0 || w[(size_t) j * n + i] != 0.0 ? 1.0 : 0.0;
        w[(size_t) i * n + j] = w[(size_t) j * n + i] = v;
      }
}

/* In place: W becomes the normalised Laplacian I - D^-1/2 W D^-1/2. */
static void
normalised_laplacian (double *w, int32_t n)
{
  double *d = malloc ((size_t) n * sizeof *d);
  if (d == NULL)
    return;
  for (int32_t i = 0; i < n; i++)
    {
      double s = 0.0;
      for (int32_t j = 0; j < n; j++)
        s += w[(size_t) i * n + j];
      d[i] = s > 0.0 ? 1.0 / sqrt (s) : 0.0;
    }
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < n; j++)
      w[(size_t) i * n + j] = (i == j ? 1.0 : 0.0) - d[i] * w[(size_t) i * n + j] * d[j];
  free (d);
}

/* Lloyd's k-means on n rows of dim k, deterministic farthest-point initialisation. */
static void
kmeans (const double *x, int32_t n, int32_t k, int32_t *assign)
{
  double *c = calloc ((size_t) k * (size_t) k, sizeof *c);
  double *nearest = malloc ((size_t) n * sizeof *nearest);
  if (c == NULL || nearest == NULL)
    {
      free (c);
      free (nearest);
      memset (assign, 0, (size_t) n * sizeof *assign);
      return;
    }
  memcpy (c, x, (size_t) k * sizeof *c);
  for (int32_t i = 0; i < n; i++)
    nearest[i] = INFINITY;
  for (int32_t m = 1; m < k; m++)
    {
      int32_t far = 0;
      for (int32_t i = 0; i < n; i++)
        {
          double s = 0.0;
          for (int32_t t = 0; t < k; t++)
            s += (x[(size_t) i * k + t] - c[(size_t) (m - 1) * k + t]) * (x[(size_t) i * k + t] - c[(size_t) (m - 1) * k + t]);
          if (s < nearest[i])
            nearest[i] = s;
          if (nearest[i] > nearest[far])
            far = i;
        }
      memcpy (c + (size_t) m * k, x + (size_t) far * k, (size_t) k * sizeof *c);
    }
  for (int32_t it = 0; it < KMEANS_ITERATIONS; it++)
    {
      bool moved = false;
      for (int32_t i = 0; i < n; i++)
        {
          int32_t best = 0;
          double best_d = INFINITY;
          for (int32_t m = 0; m < k; m++)
            {
              double s = 0.0;
              for (int32_t t = 0; t < k; t++)
                s += (x[(size_t) i * k + t] - c[(size_t) m * k + t]) * (x[(size_t) i * k + t] - c[(size_t) m * k + t]);
              if (s < best_d)
                {
                  best_d = s;
                  best = m;
                }
            }
          moved |= it == 0 || assign[i] != best;
          assign[i] = best;
        }
      if (!moved)
        break;
      for (int32_t m = 0; m < k; m++)
        {
          int32_t count = 0;
          double *cm = c + (size_t) m * k;
          memset (cm, 0, (size_t) k * sizeof *cm);
          for (int32_t i = 0; i < n; i++)
            if (assign[i] == m)
              {
                count++;
                for (int32_t t = 0; t < k; t++)
                  cm[t] += x[(size_t) i * k + t];
              }
          for (int32_t t = 0; count > 0 && t < k; t++)
            cm[t] /= count;
        }
    }
  free (c);
  free (nearest);
}

/* Renumbers clusters by decreasing size (ties: first appearance). */
static void
order_by_size (int32_t *assign, int32_t n, int32_t k)
{
  int32_t size[64] = { 0 }, rank[64];
  for (int32_t i = 0; i < n; i++)
    size[assign[i]]++;
  for (int32_t m = 0; m < k; m++)
    {
      rank[m] = 0;
      for (int32_t o = 0; o < k; o++)
        rank[m] += size[o] > size[m] || (size[o] == size[m] && o < m);
    }
  for (int32_t i = 0; i < n; i++)
    assign[i] = rank[assign[i]];
}

int32_t
cs_spray_cluster (const float *maps, int32_t n, int32_t dim, int32_t max_k, int32_t *assign, double *eigengap,
                  cs_error *err)
{
  *eigengap = 0.0;
  memset (assign, 0, (size_t) (n > 0 ? n : 1) * sizeof *assign);
  if (n < 3)
    return 1;
  if (max_k > n - 1)
    max_k = n - 1;
  if (max_k > 63)
    max_k = 63;
  double *dist = malloc ((size_t) n * (size_t) n * sizeof *dist);
  double *w = malloc ((size_t) n * (size_t) n * sizeof *w);
  double *eig = malloc ((size_t) n * sizeof *eig);
  double *emb = malloc ((size_t) n * (size_t) (max_k + 1) * sizeof *emb);
  int32_t k = -1;
  if (dist == NULL || w == NULL || eig == NULL || emb == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory clustering %d maps", n);
      goto done;
    }
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < n; j++)
      {
        double s = 0.0;
        for (int32_t t = 0; t < dim; t++)
          {
            double d = (double) maps[(size_t) i * dim + t] - (double) maps[(size_t) j * dim + t];
            s += d * d;
          }
        dist[(size_t) i * n + j] = sqrt (s);
      }
  knn_affinity (dist, n, n - 1 < SPRAY_NEIGHBOURS ? n - 1 : SPRAY_NEIGHBOURS, w);
  normalised_laplacian (w, n);
  /* Eigenvalues ascending, eigenvectors in the columns of w. */
  if (LAPACKE_dsyev (LAPACK_ROW_MAJOR, 'V', 'U', n, w, n, eig) != 0)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "the Laplacian's eigen-decomposition did not converge");
      goto done;
    }
  k = 1;
  for (int32_t j = 1; j <= max_k; j++)
    if (eig[j] - eig[j - 1] > *eigengap)
      {
        *eigengap = eig[j] - eig[j - 1];
        k = j;
      }
  /* Ng-Jordan-Weiss: rows of the first k eigenvectors, normalised to unit length. */
  for (int32_t i = 0; i < n; i++)
    {
      double norm = 0.0;
      for (int32_t t = 0; t < k; t++)
        norm += w[(size_t) i * n + t] * w[(size_t) i * n + t];
      norm = norm > 0.0 ? sqrt (norm) : 1.0;
      for (int32_t t = 0; t < k; t++)
        emb[(size_t) i * k + t] = w[(size_t) i * n + t] / norm;
    }
  if (k > 1)
    {
      kmeans (emb, n, k, assign);
      order_by_size (assign, n, k);
    }
done:
  free (dist);
  free (w);
  free (eig);
  free (emb);
  return k;
}
