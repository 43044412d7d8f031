/* entities: shared declarations of the tagger, its features, model file,
 * gazetteer, rules and linking. features.c, gazetteer.c and model.c are
 * compiled into both the stage plugin and docproc-train, so training and
 * tagging compute exactly the same features. */
#ifndef ENT_NER_H
#define ENT_NER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NER_MAX_TAGS 64
#define NER_MAX_LABELS 31   /* (NER_MAX_TAGS - 1) / 2 */
#define NER_TAGNAME 24
#define NER_TOKMAX 48       /* bytes of a token kept for features */
#define NER_MAX_WORD_FEATS 14 /* features of the word alone, at most */
#define NER_MAX_CTX_FEATS 48  /* features of its context, at most */
#define NER_MAX_FEATS (NER_MAX_WORD_FEATS + NER_MAX_CTX_FEATS)
#define NER_FEATURE_SET 6   /* bump when features.c changes meaning */

/* ---- hashing ------------------------------------------------------------ */
static inline uint64_t nh_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}
static inline uint64_t nh_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define NH_SEED 0xcbf29ce484222325ULL

/* A map of 64-bit hashes to bits (a document's words, the word classes);
 * a set when the bits are not used. */
typedef struct hset_slot {
    uint64_t key;  /* 0 = empty */
    uint32_t bits;
} hset_slot;
typedef struct hset {
    hset_slot *v;
    size_t cap, n;
} hset;
int hset_add(hset *h, uint64_t k);
int hset_has(const hset *h, uint64_t k);
/* Add bits to the entry of k (added if absent); its bits, 0 if absent. */
int hset_or(hset *h, uint64_t k, uint32_t bits);
uint32_t hset_bits(const hset *h, uint64_t k);
/* Room for n keys without growing (at most 2^16: past that it grows). */
int hset_reserve(hset *h, size_t n);
void hset_free(hset *h);

/* ---- gazetteer ---------------------------------------------------------- */
enum {
    GZ_COUNTRY, GZ_CITY, GZ_REGION, GZ_NORP, GZ_LANGUAGE, GZ_CURRENCY,
    GZ_FIRST, GZ_PERSON, GZ_ORG, GZ_LOC, GZ_TITLE, GZ_NAME,
    GZ_N_BUILTIN,
    /* user classes: an OntoNotes label tags matching text directly */
    GZ_USER_FIRST = GZ_N_BUILTIN
};
#define GZ_MAX_CLASSES 32
extern const char *const gz_builtin_names[GZ_N_BUILTIN];

typedef struct gaz_slot {
    uint64_t key;   /* 0 = empty */
    uint32_t mask;  /* classes of the full entry */
    uint32_t flags; /* 1: a full entry ends here, 2: a longer entry goes on */
} gaz_slot;

typedef struct gaz {
    gaz_slot *slots;
    size_t cap, n;
    uint64_t *filter; /* one bit per key hash: most tokens start no name */
    int max_tokens;
    int n_classes;
    char *class_names[GZ_MAX_CLASSES]; /* user classes: label names */
    /* word classes (lines "word<TAB>noun.group" and the like, from
     * data/wordclass.tsv): hash of the lower-case word -> its class, the
     * 1-based index in gz_wordclass_names */
    hset wcls;
} gaz;

/* Word classes: WordNet's noun lexicographer files, numbered 1.. in the
 * order of gz_wordclass_names; 0 = no class. */
#define GZ_N_WORDCLASS 26
extern const char *const gz_wordclass_names[GZ_N_WORDCLASS];
/* the classes the stage's rules test (positions in gz_wordclass_names + 1) */
#define GZ_WC_ANIMAL 3
#define GZ_WC_GROUP 12
#define GZ_WC_PERSON 16
/* The class of a token's lower case (low, llen bytes, hash h_low), with a
 * plural's singular tried when the word itself has none. */
unsigned gaz_wordclass(const gaz *g, const char *low, size_t llen, uint64_t h_low);

int gaz_init(gaz *g);
/* Load "name<TAB>CLASS" lines; unknown classes become user classes whose
 * name is the label to give (PERSON, ORG, ...). Returns 0 or -errno with
 * msg filled (line number). */
int gaz_load(gaz *g, const char *path, char *msg, size_t msglen);
int gaz_add(gaz *g, const char *name, size_t len, int cls);
#define GZ_FILTER_BITS 21
void gaz_free(gaz *g);

/* A matched span [start, end) in token indexes. */
typedef struct gaz_match {
    uint32_t start, end, mask;
} gaz_match;

/* Longest matches left to right over the tokens of one sentence; key1[i]
 * is gaz_key() of token i alone (the tagger has it already). Returns the
 * count written to out (at most n). */
size_t gaz_match_tokens(const gaz *g, const char *const *tok,
                        const uint32_t *len, const uint64_t *key1, size_t n,
                        gaz_match *out);
/* The key of a name's bytes, white space left out. */
uint64_t gaz_key(const char *s, size_t len);
uint32_t gaz_lookup(const gaz *g, const char *s, size_t len);

/* ---- features ----------------------------------------------------------- */
enum {
    TF_INIT_CAP = 1,   /* starts with an upper-case letter */
    TF_LCSEEN = 2,     /* its lower-case form occurs in the document */
    TF_CAPSEEN = 4,    /* occurs capitalised, not sentence-initial */
    TF_ALLCAPS_SENT = 8,
    TF_LOWER = 16,     /* all lower case */
    TF_SENT_START = 32 /* first token of its sentence (set by the stage) */
};

typedef struct ner_tok {
    const char *s;
    uint32_t len;
    uint32_t gaz;  /* class mask of the covering gazetteer match */
    uint8_t gaz_b; /* 1 when the match starts here */
    uint8_t flags;
    /* capitalised run (name-like word sequence, with inner connectors such
     * as "of"/"and") around the token, set by ner_sent_finish: position
     * (0 none, 1 first, 2 inside, 3 last, 4 alone); whether the gazetteer
     * match covering the token is shorter than the run; hashes of the
     * run's first and last words and of the words just outside it */
    uint8_t run_pos, gaz_part;
    uint8_t docctx; /* context classes this word has elsewhere in the document */
    /* word class of the token (gaz_wordclass), and of the last word of its
     * capitalised run and of the word before the run (0 none) */
    uint8_t wcls, wcls_run_last, wcls_run_prev;
    uint64_t h_run_first, h_run_last, h_run_prev, h_run_next;
    uint8_t llen, slen;
    uint64_t h_word, h_low, h_shape;
    uint64_t h_gaz; /* gaz_key() of the token: h_word unless it has white
                       space or more than 64 bytes */
    char low[NER_TOKMAX];
    char shape[8];
} ner_tok;

/* Word lists compared with a token's lower case, length first. */
typedef struct ner_word {
    const char *s;
    uint8_t n;
} ner_word;
#define NER_W(lit) {lit, (uint8_t)(sizeof(lit) - 1)}
static inline int ner_low_in(const char *low, size_t llen, const ner_word *w,
                             size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (w[i].n == llen && memcmp(low, w[i].s, llen) == 0)
            return 1;
    return 0;
}
#define NER_LOW_IS(t, lit) \
    ((t)->llen == sizeof(lit) - 1 && memcmp((t)->low, lit, sizeof(lit) - 1) == 0)

/* Fill the per-token fields (lowercase, shape, hashes) of tok[0..n). */
void ner_tok_prepare(ner_tok *t, const char *s, size_t len);


/* Document context: for each word (the hash of its lower case), whether
 * it was seen in lower case, capitalised not sentence-initial, and the
 * context classes it had capitalised (see features.c). One entry a word,
 * so that a token needs one lookup for all of them. */
typedef struct ner_docctx {
    hset words;
} ner_docctx;

void ner_docctx_free(ner_docctx *d);
/* Record the tokens of one sentence in the document context. */
int ner_doc_observe(ner_docctx *d, const ner_tok *t, size_t n);
/* Set flags and gazetteer fields of one sentence's tokens. */
int ner_sent_finish(const ner_docctx *d, const gaz *g, ner_tok *t, size_t n);
/* Feature buckets of token i (hash_bits wide). Returns the count. The
 * features are those of the word alone followed by those of its context. */
size_t ner_features(const ner_tok *t, size_t n, size_t i, unsigned hash_bits,
                    uint32_t *out);
size_t ner_features_word(const ner_tok *c, unsigned hash_bits, uint32_t *out);
size_t ner_features_ctx(const ner_tok *t, size_t n, size_t i,
                        unsigned hash_bits, uint32_t *out);

/* Per-document cache of the summed weights of word features (direct
 * mapped; a miss just recomputes). NULL disables it. */
#define NER_CACHE_SLOTS 4096
typedef struct ner_cache {
    uint64_t key[NER_CACHE_SLOTS];
    int32_t acc[NER_CACHE_SLOTS][16];
} ner_cache;

/* ---- model -------------------------------------------------------------- */
typedef struct ner_model {
    void *map;          /* mmap of the file, or NULL */
    size_t map_len;
    unsigned hash_bits;
    unsigned n_tags;
    char tags[NER_MAX_TAGS][NER_TAGNAME];
    /* per tag: label index (in labels) and kind 0=O 1=B 2=I */
    uint8_t tag_kind[NER_MAX_TAGS];
    uint8_t tag_label[NER_MAX_TAGS];
    unsigned n_labels;
    char labels[NER_MAX_LABELS][NER_TAGNAME];
    float scale;
    float o_penalty; /* subtracted from the O score of each token (recall) */
    float start[NER_MAX_TAGS];
    float trans[NER_MAX_TAGS][NER_MAX_TAGS];
    const int16_t *w; /* 2^hash_bits rows of n_tags, as in the file */
    /* The same weights with each row padded with zeros to `stride` (n_tags
     * rounded up to NER_ROW_ALIGN) and 32-byte aligned: a row is one cache
     * line access and sums over whole vector blocks, which the tagger's
     * inner loop needs to be vectorized. */
    unsigned stride;
    int16_t *wp;
} ner_model;

#define NER_ROW_ALIGN 8

#define NER_MODEL_MAGIC "DPNERMDL"
#define NER_MODEL_VERSION 1

int ner_model_load(ner_model *m, const char *path, char *msg, size_t msglen);
void ner_model_free(ner_model *m);
/* Write a model from float weights (rows of n_tags), quantized to int16. */
int ner_model_write(const char *path, unsigned hash_bits, unsigned n_tags,
                    char tags[][NER_TAGNAME], const float *start,
                    const float *trans, const float *w, char *msg,
                    size_t msglen);
/* Fill tag_kind/tag_label/labels from tag names; -1 when malformed. */
int ner_tags_parse(ner_model *m);

/* Constrained Viterbi over emission scores em[n][n_tags]: I-X only after
 * B-X or I-X. out gets tag indexes. `scratch` holds n*n_tags ints. */
void ner_viterbi(unsigned n_tags, const uint8_t *kind, const uint8_t *label,
                 const float *start, const float (*trans)[NER_MAX_TAGS],
                 const float *em, size_t n, int *bp, int *out);
/* Tag one sentence with a loaded model. em: n*n_tags floats, bp: n*n_tags
 * ints, out: n ints; feats scratch NER_MAX_FEATS. */
void ner_tag(const ner_model *m, const ner_tok *t, size_t n, float *em,
             int *bp, int *out, ner_cache *cache);

#endif
