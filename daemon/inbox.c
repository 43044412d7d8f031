/* Candidate table of the inbox. */
#include "inbox.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    /* FNV-1a */
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int dp_inbox_init(dp_inbox *in)
{
    memset(in, 0, sizeof *in);
    in->n_buckets = 1024;
    in->buckets = calloc(in->n_buckets, sizeof *in->buckets);
    return in->buckets ? 0 : -1;
}

void dp_inbox_free(dp_inbox *in)
{
    for (size_t i = 0; i < in->n_buckets; i++) {
        for (dp_cand *c = in->buckets[i], *next; c; c = next) {
            next = c->hnext;
            free(c->name);
            free(c);
        }
    }
    free(in->buckets);
    memset(in, 0, sizeof *in);
}

static void grow(dp_inbox *in)
{
    size_t nb = in->n_buckets * 4;
    dp_cand **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < in->n_buckets; i++) {
        for (dp_cand *c = in->buckets[i], *next; c; c = next) {
            next = c->hnext;
            size_t h = hash(c->name) & (nb - 1);
            c->hnext = b[h];
            b[h] = c;
        }
    }
    free(in->buckets);
    in->buckets = b;
    in->n_buckets = nb;
}

dp_cand *dp_inbox_find(dp_inbox *in, const char *name)
{
    for (dp_cand *c = in->buckets[hash(name) & (in->n_buckets - 1)]; c;
         c = c->hnext)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static dp_cand_list *list_of(dp_inbox *in, dp_cand_state st)
{
    if (st == DP_CAND_WAITING)
        return &in->waiting;
    if (st == DP_CAND_READY)
        return &in->ready;
    if (st == DP_CAND_IGNORED)
        return &in->ignored;
    return NULL;
}

static void list_push(dp_cand_list *l, dp_cand *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

static void list_unlink(dp_cand_list *l, dp_cand *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->n--;
}

dp_cand *dp_inbox_get(dp_inbox *in, const char *name, int *created)
{
    dp_cand *c = dp_inbox_find(in, name);
    if (created)
        *created = c == NULL;
    if (c)
        return c;
    if (in->n > in->n_buckets)
        grow(in);
    c = calloc(1, sizeof *c);
    if (c == NULL || (c->name = strdup(name)) == NULL) {
        free(c);
        return NULL;
    }
    size_t h = hash(name) & (in->n_buckets - 1);
    c->hnext = in->buckets[h];
    in->buckets[h] = c;
    in->n++;
    c->state = DP_CAND_WAITING;
    list_push(&in->waiting, c);
    return c;
}

void dp_inbox_set_state(dp_inbox *in, dp_cand *c, dp_cand_state st)
{
    dp_cand_list *from = list_of(in, c->state), *to = list_of(in, st);
    if (from == to) {
        c->state = st;
        return;
    }
    if (from)
        list_unlink(from, c);
    c->state = st;
    if (to)
        list_push(to, c);
}

dp_cand *dp_inbox_pop_ready(dp_inbox *in)
{
    dp_cand *c = in->ready.head;
    if (c)
        dp_inbox_set_state(in, c, DP_CAND_CLAIMED);
    return c;
}

void dp_inbox_remove(dp_inbox *in, dp_cand *c)
{
    dp_cand_list *l = list_of(in, c->state);
    if (l)
        list_unlink(l, c);
    dp_cand **pp = &in->buckets[hash(c->name) & (in->n_buckets - 1)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    in->n--;
    free(c->name);
    free(c);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int dp_inbox_ignored_name(const char *name)
{
    return name[0] == '.' || name[0] == '~' || ends_with(name, ".tmp") ||
           ends_with(name, ".part") || ends_with(name, ".filepart");
}
