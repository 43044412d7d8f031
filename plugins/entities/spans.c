/* entities: the list of mentions a document collects (model, rules,
 * gazetteer, linking all append to it). */
#include <errno.h>
#include <stdlib.h>

#include "ent.h"

int ent_spans_push(ent_spans *l, ent_span s)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 256;
        ent_span *p = realloc(l->spans, c * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        l->spans = p;
        l->cap = c;
    }
    l->spans[l->n++] = s;
    return 0;
}

int ent_span_cmp(const void *a, const void *b)
{
    const ent_span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}
