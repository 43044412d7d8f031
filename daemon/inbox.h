/* The inbox's candidates: every name seen in the inbox, from events or
 * scans, with what is known of it, until it is claimed and finished. A
 * name is looked up in a hash table; waiting and ready names are kept in
 * two lists so that each tick touches only what can change, and folders in
 * a third, so that the name of one removed is forgotten (a long-running
 * daemon would otherwise keep every folder name it ever saw). */
#ifndef DP_INBOX_H
#define DP_INBOX_H

#include <stddef.h>
#include <stdint.h>

typedef enum dp_cand_state {
    DP_CAND_WAITING, /* seen, maybe still being written */
    DP_CAND_READY,   /* stable: in the ready queue, to be claimed */
    DP_CAND_CLAIMED, /* moved to processing/, in flight */
    DP_CAND_IGNORED  /* a folder: left alone, logged once */
} dp_cand_state;

typedef struct dp_cand {
    char *name;
    dp_cand_state state;
    int finished;         /* closed after writing or renamed in */
    int writing;          /* inotify saw it written, and not closed yet */
    uint64_t written_at;  /* when (loop ms) it was last seen written */
    int recheck;          /* an event came while claimed */
    uint64_t not_before;  /* don't look again before (ms, backoff) */
    struct dp_cand *hnext;            /* hash chain */
    struct dp_cand *prev, *next;      /* waiting or ready list */
} dp_cand;

typedef struct dp_cand_list {
    dp_cand *head, *tail;
    size_t n;
} dp_cand_list;

typedef struct dp_inbox {
    dp_cand **buckets;
    size_t n_buckets, n;
    dp_cand_list waiting, ready;
    dp_cand_list ignored; /* folders: looked at again when one goes away */
} dp_inbox;

int dp_inbox_init(dp_inbox *in);
void dp_inbox_free(dp_inbox *in);

/* Find a candidate, or add a new WAITING one (NULL on out of memory). */
dp_cand *dp_inbox_get(dp_inbox *in, const char *name, int *created);
dp_cand *dp_inbox_find(dp_inbox *in, const char *name);
/* Remove and free a candidate (unlinks it from any list). */
void dp_inbox_remove(dp_inbox *in, dp_cand *c);
/* Move a candidate to a state, keeping the lists right. */
void dp_inbox_set_state(dp_inbox *in, dp_cand *c, dp_cand_state st);
/* Pop the oldest ready candidate (it becomes CLAIMED), or NULL. */
dp_cand *dp_inbox_pop_ready(dp_inbox *in);

/* Names the daemon never takes: hidden (.x), editor backups (~x), and
 * uploads in progress (.tmp, .part, .filepart). */
int dp_inbox_ignored_name(const char *name);

#endif
