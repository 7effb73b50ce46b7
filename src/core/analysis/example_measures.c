/* Per-example measures of a history, the suspects' ranking and the early-epoch AUROC (see
 * example_measures.h for the papers each follows). */
#include "analysis/example_measures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The first epoch column that is a training epoch: the checkpoint of epoch 0 is the
 * initialisation, which no measure of learning should average in (unless it is all there is). */
static int32_t
first_trained (const cs_history *h)
{
  for (int32_t e = 0; e < h->n_epochs; e++)
    if (h->epochs[e] >= 1)
      return e;
  return 0;
}

static void
measure_one (const cs_history *h, const cs_history_examples *x, int64_t i, int32_t from,
             cs_example_measures *m)
{
  int32_t E = h->n_epochs, n = E - from;
  const float *prob = x->prob + i * E, *margin = x->margin + i * E;
  const uint8_t *pred = x->pred + i * E, *other = x->other + i * E;
  uint8_t label = x->label[i];
  double sp = 0, sm = 0;
  int32_t right = 0, forgot = 0, votes[256] = { 0 };
  for (int32_t e = from; e < E; e++)
    {
      sp += prob[e];
      sm += margin[e];
      right += pred[e] == label;
      if (e > from && pred[e - 1] == label && pred[e] != label)
        forgot++;
      votes[other[e]]++;
    }
  double mean = sp / n, var = 0;
  for (int32_t e = from; e < E; e++)
    var += ((double) prob[e] - mean) * ((double) prob[e] - mean);
  m->confidence = (float) mean;
  m->variability = (float) sqrt (var / n);
  m->correctness = (float) right / (float) n;
  m->aum = (float) (sm / n);
  m->forgetting = forgot;
  m->ever_learned = right > 0;
  m->learned_at = -1;
  for (int32_t e = E - 1; e >= 0 && pred[e] == label; e--)
    m->learned_at = h->epochs[e];
  m->likely_label = 0;
  for (int32_t c = 1; c < h->n_classes; c++)
    if (votes[c] > votes[m->likely_label])
      m->likely_label = c;
}

cs_example_measures *
cs_history_measures (const cs_history *h, cs_history_split s, cs_error *err)
{
  const cs_history_examples *x = &h->split[s];
  cs_example_measures *m = calloc ((size_t) (x->n > 0 ? x->n : 1), sizeof *m);
  if (m == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory for the measures of %lld examples", (long long) x->n);
      return NULL;
    }
  int32_t from = first_trained (h);
  for (int64_t i = 0; i < x->n; i++)
    measure_one (h, x, i, from, &m[i]);
  return m;
}

typedef struct {
  float aum, confidence;
  int64_t index;
} suspect_key;

static int
cmp_suspect (const void *a, const void *b)
{
  const suspect_key *p = a, *q = b;
  if (p->aum != q->aum)
    return p->aum < q->aum ? -1 : 1;
  if (p->confidence != q->confidence)
    return p->confidence < q->confidence ? -1 : 1;
  return (p->index > q->index) - (p->index < q->index);
}

cs_status
cs_history_rank_suspects (const cs_example_measures *m, int64_t n, int64_t *order, cs_error *err)
{
  /* Sort copies of the keys: qsort has no user pointer, and a global would not be thread-safe. */
  suspect_key *k = malloc ((size_t) (n > 0 ? n : 1) * sizeof *k);
  if (k == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory ranking %lld examples", (long long) n);
  for (int64_t i = 0; i < n; i++)
    k[i] = (suspect_key) { m[i].aum, m[i].confidence, i };
  qsort (k, (size_t) n, sizeof *k, cmp_suspect);
  for (int64_t i = 0; i < n; i++)
    order[i] = k[i].index;
  free (k);
  return CS_OK;
}

typedef struct {
  double score;
  bool wrong;
} risk;

static int
cmp_risk (const void *a, const void *b)
{
  double x = ((const risk *) a)->score, y = ((const risk *) b)->score;
  return (x > y) - (x < y);
}

/* Mann-Whitney AUROC of scores (higher = predicted wrong), ties counted half. */
static double
auroc_of (risk *r, int64_t n)
{
  qsort (r, (size_t) n, sizeof *r, cmp_risk);
  double rank_sum = 0;
  int64_t n_wrong = 0;
  for (int64_t i = 0; i < n;)
    {
      int64_t j = i;
      while (j < n && r[j].score == r[i].score)
        j++;
      double mid = 0.5 * (double) (i + 1 + j); /* the average 1-based rank of the tie block */
      for (int64_t t = i; t < j; t++)
        if (r[t].wrong)
          {
            rank_sum += mid;
            n_wrong++;
          }
      i = j;
    }
  int64_t n_right = n - n_wrong;
  if (n_wrong == 0 || n_right == 0)
    return NAN;
  return (rank_sum - 0.5 * (double) n_wrong * (double) (n_wrong + 1)) / ((double) n_wrong * (double) n_right);
}

void
cs_history_early_auroc (const cs_history *h, double *auroc)
{
  const cs_history_examples *x = &h->split[CS_HISTORY_TEST];
  int32_t E = h->n_epochs;
  risk *r = malloc ((size_t) (x->n > 0 ? x->n : 1) * sizeof *r);
  double *sum = calloc ((size_t) (x->n > 0 ? x->n : 1), sizeof *sum);
  for (int32_t k = 0; k < E; k++)
    {
      if (r == NULL || sum == NULL)
        {
          auroc[k] = NAN;
          continue;
        }
      for (int64_t i = 0; i < x->n; i++)
        {
          sum[i] += x->margin[i * E + k];
          r[i].score = -sum[i] / (k + 1);
          r[i].wrong = x->pred[i * E + E - 1] != x->label[i];
        }
      auroc[k] = auroc_of (r, x->n);
    }
  free (r);
  free (sum);
}
