/* summarize: internal interfaces shared by the files of the stage.
 *
 *   strtab.c    string interning (open addressing) used for word lists,
 *               surface forms and stems
 *   stemcache.c the stems of common words, computed at load
 *   vocab.c     tokens -> terms (case folding, stop words, Snowball stems),
 *               per-sentence TF-ISF vectors and sentence features
 *   graph.c     sparse sentence-similarity graph (windowed inverted index,
 *               top-K neighbours) and its PageRank (LexRank)
 *   select.c    final scores, length rule, MMR redundancy removal
 *   keyphrase.c noun-phrase-like candidates and entities, scored
 *   summarize.c descriptor, options, create/process/destroy
 */
#ifndef SZ_H
#define SZ_H

#include <stddef.h>
#include <stdint.h>

#include <docproc/docproc.h>

/* ------------------------------------------------------------------------ */
/* String table: maps byte strings to dense ids 0..n-1.                      */

typedef struct sz_strkey {
    uint32_t off;    /* offset of the key in arena */
    uint32_t len;    /* key length */
    uint64_t hash;
} sz_strkey;

typedef struct sz_strtab {
    /* Per slot: the hash's high 32 bits << 32 | (id + 1), 0 = empty. The
     * tag lets a probe reject other keys without touching keys[]. */
    uint64_t *slots;
    size_t cap;      /* power of two */
    sz_strkey *keys; /* per id */
    size_t n, id_cap;
    char *arena;
    size_t arena_len, arena_cap;
} sz_strtab;

uint64_t sz_hash(const void *p, size_t len);
int sz_strtab_init(sz_strtab *t, size_t expect);
void sz_strtab_free(sz_strtab *t);
/* The id of key, or -1 when absent. */
long sz_strtab_find(const sz_strtab *t, const char *key, size_t len);
/* The same with the key's sz_hash already known. */
long sz_strtab_find_h(const sz_strtab *t, const char *key, size_t len,
                      uint64_t h);
/* The id of key, inserting it when absent (*added set to 1 then). Returns
 * -ENOMEM on allocation failure. */
long sz_strtab_put(sz_strtab *t, const char *key, size_t len, int *added);
/* The same with the key's sz_hash already known. */
long sz_strtab_put_h(sz_strtab *t, const char *key, size_t len, uint64_t h,
                     int *added);
static inline const char *sz_strtab_key(const sz_strtab *t, uint32_t id,
                                        size_t *len)
{
    *len = t->keys[id].len;
    return t->arena + t->keys[id].off;
}

/* ------------------------------------------------------------------------ */
/* Stem cache: common lower-case words and their stems (stemcache.c).        */

#define SZ_SC_MAX 15     /* longest word or stem kept */
#define SZ_SC_NONE 0xFF  /* slen of a word whose stem is not kept */

typedef struct sz_sc_entry { /* 32 bytes: one lookup, one cache line */
    uint8_t wlen;            /* 0 = empty */
    char word[SZ_SC_MAX];    /* zero-padded: wlen and word are the key */
    uint8_t slen;
    char stem[SZ_SC_MAX];
} sz_sc_entry;

typedef struct sz_stemcache {
    sz_sc_entry *e;
    size_t mask;             /* capacity - 1 (a power of two) */
    size_t n;
} sz_stemcache;

/* Add a word (at load; longer ones are skipped), then stem them all. */
int sz_stemcache_put(sz_stemcache *c, const char *w, size_t len);
int sz_stemcache_stem(sz_stemcache *c);
/* The entry of w with its stem, or NULL. */
const sz_sc_entry *sz_stemcache_find(const sz_stemcache *c, const char *w,
                                     size_t len);
void sz_stemcache_free(sz_stemcache *c);

/* ------------------------------------------------------------------------ */
/* Instance (read-only after create).                                        */

#define SZ_VERB_FILTER_BITS (1u << 18)
static inline uint32_t sz_verb_bit(uint64_t h)
{
    return (uint32_t)(h >> 7) & (SZ_VERB_FILTER_BITS - 1);
}

typedef struct sz_inst {
    sz_strtab stop;        /* lower-case stop words */
    sz_strtab person;      /* first- and second-person pronouns */
    sz_strtab verbs;       /* forms that are only ever verbs (verbs.txt) */
    /* One bit per hash of a verbs.txt form: most words are not verbs, and
     * the filter (32 KB) answers them without a miss in the 16k-word
     * table, which the entities stage's tables evict between documents
     * (the look-up alone cost summarize 10 % of its time). */
    uint64_t verb_filter[SZ_VERB_FILTER_BITS / 64];
    sz_stemcache common;   /* common words (not stop words) and stems */
    char **boiler;         /* lower-case boilerplate phrases */
    size_t n_boiler;
    long opt_sentences;    /* -1 when not given */
    double opt_ratio;      /* < 0 when not given */
    long opt_words;        /* -1 when not given */
    long n_keyphrases;
    double lambda;         /* MMR trade-off, 1 = no redundancy penalty */
} sz_inst;

/* ------------------------------------------------------------------------ */
/* Per-document state.                                                       */

enum { SZ_NONE = UINT32_MAX };

typedef struct sz_type {    /* a distinct surface form */
    uint32_t stem;          /* SZ_NONE for stop words and non-words */
    uint8_t word;           /* has a letter or digit */
    uint8_t stop;
    uint8_t number;         /* digits only (with , . separators) */
    uint8_t weak;           /* looks like a verb or adverb ("adjusted",
                               "probably"): never at a keyphrase's edge */
    uint8_t person;         /* a first- or second-person pronoun */
    uint8_t verb;           /* a form that is never a noun or an adjective
                               ("bring", "discussed"), written in lower
                               case or capitalised: ends a keyphrase run */
    uint8_t lower;          /* starts with a lower-case letter */
} sz_type;

typedef struct sz_stem {
    uint32_t df;            /* sentences containing it */
    uint32_t tf;            /* occurrences in the document */
    uint32_t first;         /* first sentence containing it */
    uint32_t last_sent;     /* scratch: last sentence counted in df */
    uint32_t pos;           /* scratch: its entry in that sentence's vector */
    float isf;              /* inverse sentence frequency */
    float kw;               /* keyword weight (document-level) */
} sz_stem;

typedef struct sz_entry {   /* one component of a sentence vector */
    uint32_t stem;
    float w;
} sz_entry;

/* Flags describing a sentence. */
enum {
    SZ_QUESTION = 1u << 0,
    SZ_QUOTE_ONLY = 1u << 1,  /* a quotation with no attribution */
    SZ_NO_END = 1u << 2,      /* no sentence-final punctuation */
    SZ_BOILER = 1u << 3,
    SZ_LOWER_START = 1u << 4, /* starts with a lower-case letter */
};

typedef struct sz_sent {
    size_t start, end;      /* bytes */
    uint32_t tok0, ntok;    /* its tokens: doc->tok_type[tok0 .. tok0+ntok) */
    uint32_t vec0, nvec;    /* its vector: doc->vec[vec0 .. vec0+nvec) */
    uint32_t nwords;        /* word tokens */
    uint32_t ncontent;      /* content (non-stop word) tokens */
    uint32_t nnum;          /* number tokens */
    uint32_t nperson;       /* first- and second-person pronouns */
    uint32_t flags;
    uint64_t hash;          /* of its words (content words by stem), never 0:
                               equal for repeated sentences */
    float ent;              /* entity centrality */
    float kw;               /* keyword centrality */
    float kp;               /* keyphrase centrality */
    float rank;             /* graph centrality (PageRank, mean 1) */
    float score;            /* final salience */
} sz_sent;

typedef struct sz_doc {
    const sz_inst *inst;
    const char *text;
    size_t len;

    const dp_ann *tok;      /* the token layer */
    size_t ntok;
    uint32_t *tok_type;     /* per token: type id (SZ_NONE if outside sentences) */

    sz_strtab surf;         /* surface form -> type */
    sz_type *types;
    size_t types_cap;
    sz_strtab stems;        /* stem string -> stem id */
    sz_stem *stem;
    size_t stem_cap;

    sz_sent *sent;
    size_t nsent;
    sz_entry *vec;
    size_t nvec;

    /* graph: up to SZ_K neighbours per sentence */
    uint32_t *nb;           /* nsent * SZ_K */
    float *nbw;
    uint8_t *nbn;
} sz_doc;

#define SZ_K 20         /* neighbours kept per sentence */
#define SZ_WINDOW 150   /* sentences compared on each side */

void sz_doc_free(sz_doc *d);
/* Build terms, vectors and sentence features. */
int sz_vocab_build(sz_doc *d, dp_doc *doc, dp_err *err);
/* Build the similarity graph and rank (fills sent[].rank). */
int sz_graph_rank(sz_doc *d, dp_err *err);
/* Cosine similarity of two sentences (vectors are unit length). */
float sz_cosine(const sz_doc *d, uint32_t a, uint32_t b);
/* Score sentences and pick the summary; *out gets sorted indexes. */
int sz_select(sz_doc *d, uint32_t **out, size_t *nout, dp_err *err);
/* The number of sentences the length options ask for (words aside). */
size_t sz_target_count(const sz_inst *in, size_t nsent);
/* Keyphrases: candidates, scores and the best ones; also adds each
 * sentence's keyphrase centrality (sent[].kp). */
typedef struct sz_kps sz_kps;
int sz_kp_build(sz_doc *d, dp_doc *doc, sz_kps **out);
/* The best keyphrases as a JSON array (NULL on allocation failure). */
json_t *sz_kp_json(const sz_doc *d, const sz_kps *k);
void sz_kp_free(sz_kps *k);

/* Whether an entity label is numeric (DATE, MONEY, CARDINAL, ...). */
int sz_label_numeric(const char *label);

/* Case-fold s into buf (NUL-terminated, *outlen bytes); returns buf, a new
 * allocation (free it when != buf), or NULL on failure. */
char *sz_fold(const char *s, size_t len, char *buf, size_t bufsz,
              size_t *outlen);

#endif
