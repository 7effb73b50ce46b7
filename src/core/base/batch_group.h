/* One mini-batch split over several executors that run side by side (the trainer's slices):
 * per-channel sums that every member needs over the whole batch (batch norm's statistics) are
 * added up across the members, in member order, so that each member sees the same totals. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct cs_batch_group cs_batch_group;

/* A group of up to `members` members whose sums hold at most max_values doubles. NULL when
 * out of memory. */
cs_batch_group *cs_batch_group_new (int32_t members, int64_t max_values);
void cs_batch_group_free (cs_batch_group *g);

/* Before a batch, with no member inside the group: `active` members (0 .. active - 1) take
 * part in every sum until the next begin. Clears an abort. */
void cs_batch_group_begin (cs_batch_group *g, int32_t active);

/* Where `member` writes its part of the next sum (max_values doubles). */
double *cs_batch_group_part (cs_batch_group *g, int32_t member);

/* Waits until every active member has written its part of this sum, and returns the sum of the
 * first n values over the members, in member order (the same bits for every member), valid
 * until this member's sum after next. NULL when another member aborted the batch. */
const double *cs_batch_group_sum (cs_batch_group *g, int32_t member, int64_t n);

/* A member that fails mid-batch releases the others: their sums return NULL until the next
 * begin. */
void cs_batch_group_abort (cs_batch_group *g);
