/* cbuf: a pass's output text and its alignment to the pass's input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"

void cb_init(cbuf *b, const char *in)
{
    memset(b, 0, sizeof *b);
    b->in = in;
}

void cb_reset(cbuf *b, const char *in)
{
    char *s = b->s;
    dp_align *al = b->al;
    size_t cap = b->cap, alcap = b->alcap;
    cb_init(b, in);
    b->s = s;
    b->cap = cap;
    b->al = al;
    b->alcap = alcap;
}

void cb_free(cbuf *b)
{
    free(b->s);
    free(b->al);
    b->s = NULL;
    b->al = NULL;
    b->len = b->cap = b->nal = b->alcap = 0;
}

static int grow_text(cbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (s == NULL) {
        b->oom = 1;
        return -ENOMEM;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

static int add_piece(cbuf *b, size_t n, size_t start, size_t end, int copy)
{
    if (copy && b->last_copy && b->nal > 0) {
        dp_align *p = &b->al[b->nal - 1];
        if (p->new_end == b->len && p->old_end == start) {
            p->new_end += n;
            p->old_end = end;
            return 0;
        }
    }
    if (b->nal == b->alcap) {
        size_t cap = b->alcap ? b->alcap * 2 : 64;
        dp_align *al = realloc(b->al, cap * sizeof *al);
        if (al == NULL) {
            b->oom = 1;
            return -ENOMEM;
        }
        b->al = al;
        b->alcap = cap;
    }
    b->al[b->nal++] = (dp_align){b->len, b->len + n, start, end};
    b->last_copy = copy;
    return 0;
}

int cb_emit(cbuf *b, const char *rep, size_t n, size_t start, size_t end)
{
    if (n == 0)
        return 0; /* a deletion maps nothing */
    if (grow_text(b, n) || add_piece(b, n, start, end, 0))
        return -ENOMEM;
    memcpy(b->s + b->len, rep, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

static int copy_in(cbuf *b, size_t start, size_t end)
{
    size_t n = end - start;
    if (n == 0)
        return 0;
    if (grow_text(b, n) || add_piece(b, n, start, end, 1))
        return -ENOMEM;
    memcpy(b->s + b->len, b->in + start, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

int cb_keep(cbuf *b, size_t upto)
{
    if (!b->changed || upto <= b->done)
        return 0;
    int rc = copy_in(b, b->done, upto);
    b->done = upto;
    return rc;
}

int cb_replace(cbuf *b, size_t start, size_t end, const char *rep, size_t n)
{
    if (start < b->done)
        return -EINVAL;
    if (!b->changed) {
        b->changed = 1;
        if (grow_text(b, start + n + 64))
            return -ENOMEM;
    }
    if (copy_in(b, b->done, start) || cb_emit(b, rep, n, start, end))
        return -ENOMEM;
    b->done = end;
    return 0;
}

int cb_finish(cbuf *b, size_t in_len)
{
    if (!b->changed)
        return b->oom ? -ENOMEM : 0;
    if (grow_text(b, 0) || cb_keep(b, in_len))
        return -ENOMEM;
    return b->oom ? -ENOMEM : 0;
}
