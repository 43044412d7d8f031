/* docproc-train: trains the entities stage's model (an averaged structured
 * perceptron over BIO tags with Viterbi decoding) from CoNLL files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conll.h"
#include "ner.h"

#ifndef DOCPROC_VERSION
#define DOCPROC_VERSION "unknown"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: docproc-train --train FILE... [--dev FILE] -o MODEL [options]\n"
            "       docproc-train --test FILE -m MODEL [--gazetteer FILE]...\n"
            "Trains the named-entity model of the docproc 'entities' stage.\n"
            "Input: CoNLL files (token first, tag last; BIO2, IOB1 or BIOES tags;\n"
            "blank line between sentences; -DOCSTART- lines between documents).\n"
            "  --train FILE...    training files (all arguments up to the next option)\n"
            "  --dev FILE         report span F1 on this file after each epoch\n"
            "  -o, --output MODEL model file to write\n"
            "  --test FILE        evaluate MODEL (-m) on FILE and print F1 per label\n"
            "  -m, --model MODEL  model to evaluate with --test\n"
            "  --gazetteer FILE   gazetteer (NAME<TAB>CLASS) for features; repeatable;\n"
            "                     use the same ones the stage loads (its gazetteer.tsv\n"
            "                     and wordclass.tsv)\n"
            "  --epochs N         passes over the data (default 12)\n"
            "  --bits B           2^B hashed feature buckets (default 20, 8..26)\n"
            "  --seed S           shuffling seed (default 1)\n"
            "  --runs N           train N times (seeds S..S+N-1) and average the models\n"
            "  --domains          each --train file is a domain: features get shared and\n"
            "                     per-file copies, the model keeps the shared ones\n"
            "  --target FILE      with --domains: the model also keeps the weights\n"
            "                     specific to FILE (one of the --train files)\n"
            "  --repeat FILE=N    train on the sentences of FILE (one of the --train\n"
            "                     files) N times per epoch (1..100; default 1)\n"
            "  -q, --quiet        no progress lines\n"
            "  -V, --version      print the version and exit\n"
            "  -h, --help         this help\n");
}

/* ---- data prepared for training ----------------------------------------- */
typedef struct corpus {
    conll c;
    uint32_t *feat;   /* features of all tokens */
    size_t *foff;     /* n_tok + 1 offsets into feat */
    int *gold;        /* gold tag index per token */
} corpus;

typedef struct tagset {
    unsigned n;
    char names[NER_MAX_TAGS][NER_TAGNAME];
} tagset;

static int tag_index(tagset *ts, const char *tag, int add)
{
    for (unsigned i = 0; i < ts->n; i++)
        if (strcmp(ts->names[i], tag) == 0)
            return (int)i;
    if (!add || ts->n >= NER_MAX_TAGS || strlen(tag) >= NER_TAGNAME)
        return -1;
    snprintf(ts->names[ts->n], NER_TAGNAME, "%s", tag);
    return (int)ts->n++;
}

/* Domain adaptation ("frustratingly easy", Daume 2007): with it, every
 * feature of a training token also gets a copy specific to its file, which
 * soaks up what is peculiar to that corpus (tweets, filings); the tagger
 * uses the shared copies only. */
static int domain_copies;

/* Bucket of the copy of feature bucket b specific to file `file`. */
static inline uint32_t domain_bucket(uint32_t b, uint32_t file, unsigned bits)
{
    uint64_t dom = (uint64_t)(file + 1) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(nh_mix(b ^ dom) >> (64 - bits));
}

/* With --domains and --target: the model's weights become the shared ones
 * plus those specific to the target file, folded into one table (a
 * domain copy's bucket is a function of the shared bucket), so tagging
 * costs nothing more. */
static int fold_domain(float *w, size_t rows, unsigned T, unsigned bits,
                       uint32_t file)
{
    float *sum = malloc(rows * T * sizeof *sum);
    if (sum == NULL)
        return -ENOMEM;
    for (size_t b = 0; b < rows; b++) {
        const float *d = w + (size_t)domain_bucket((uint32_t)b, file, bits) * T;
        for (unsigned a = 0; a < T; a++)
            sum[b * T + a] = w[b * T + a] + d[a];
    }
    memcpy(w, sum, rows * T * sizeof *sum);
    free(sum);
    return 0;
}

static int prepare(corpus *cp, const gaz *g, unsigned bits, tagset *ts,
                   int add_tags)
{
    conll *c = &cp->c;
    cp->foff = malloc((c->n_tok + 1) * sizeof *cp->foff);
    cp->gold = malloc((c->n_tok + 1) * sizeof *cp->gold);
    size_t fcap = c->n_tok * 40 + 64;
    cp->feat = malloc(fcap * sizeof *cp->feat);
    ner_tok *toks = malloc((c->n_tok + 1) * sizeof *toks);
    if (!cp->foff || !cp->gold || !cp->feat || !toks) {
        free(toks);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->n_tok; i++) {
        ner_tok_prepare(&toks[i], c->tok[i], strlen(c->tok[i]));
        int t = tag_index(ts, c->tag[i], add_tags > 0);
        if (t < 0) {
            if (add_tags > 0) {
                fprintf(stderr, "docproc-train: too many labels (at most %d)\n",
                        NER_MAX_LABELS);
                free(toks);
                return -EINVAL;
            }
            t = 0; /* label unknown to the model: counts as O */
        }
        cp->gold[i] = t;
    }
    size_t nf = 0;
    for (size_t s = 0; s < c->n_sent;) {
        size_t e = s;
        ner_docctx d = {0};
        while (e < c->n_sent && c->sent[e].doc == c->sent[s].doc) {
            if (ner_doc_observe(&d, toks + c->sent[e].first, c->sent[e].n))
                goto oom;
            e++;
        }
        for (size_t k = s; k < e; k++) {
            ner_tok *t = toks + c->sent[k].first;
            size_t n = c->sent[k].n;
            if (ner_sent_finish(&d, g, t, n))
                goto oom;
            for (size_t i = 0; i < n; i++) {
                if (nf + NER_MAX_FEATS > fcap) {
                    fcap *= 2;
                    uint32_t *nfp = realloc(cp->feat, fcap * sizeof *nfp);
                    if (nfp == NULL)
                        goto oom;
                    cp->feat = nfp;
                }
                cp->foff[c->sent[k].first + i] = nf;
                size_t nk = ner_features(t, n, i, bits, cp->feat + nf);
                if (domain_copies && add_tags >= 0) {
                    if (nf + 2 * nk + 1 > fcap) {
                        fcap = fcap * 2 + 2 * nk;
                        uint32_t *nfp = realloc(cp->feat, fcap * sizeof *nfp);
                        if (nfp == NULL)
                            goto oom;
                        cp->feat = nfp;
                    }
                    for (size_t q = 0; q < nk; q++)
                        cp->feat[nf + nk + q] =
                            domain_bucket(cp->feat[nf + q], c->sent[k].file, bits);
                    nk *= 2;
                }
                nf += nk;
            }
        }
        ner_docctx_free(&d);
        s = e;
        continue;
    oom:
        ner_docctx_free(&d);
        free(toks);
        return -ENOMEM;
    }
    cp->foff[c->n_tok] = nf;
    free(toks);
    return 0;
}

static void corpus_free(corpus *cp)
{
    conll_free(&cp->c);
    free(cp->feat);
    free(cp->foff);
    free(cp->gold);
}

/* ---- model in training -------------------------------------------------- */
typedef struct trainer {
    unsigned T, bits;
    size_t rows;
    float *w, *u; /* weights, and sum of c*update for averaging */
    float start[NER_MAX_TAGS], ustart[NER_MAX_TAGS];
    float trans[NER_MAX_TAGS][NER_MAX_TAGS], utrans[NER_MAX_TAGS][NER_MAX_TAGS];
    double c;
    ner_model m; /* tag structure */
} trainer;

static void emissions(const float *w, unsigned T, const corpus *cp, size_t first,
                      size_t n, float *em)
{
    for (size_t i = 0; i < n; i++) {
        float *e = em + i * T;
        memset(e, 0, sizeof(float) * T);
        for (size_t j = cp->foff[first + i]; j < cp->foff[first + i + 1]; j++) {
            const float *row = w + (size_t)cp->feat[j] * T;
            for (unsigned a = 0; a < T; a++)
                e[a] += row[a];
        }
    }
}

static void update(trainer *tr, const corpus *cp, size_t first, size_t n,
                   const int *pred)
{
    unsigned T = tr->T;
    const int *gold = cp->gold + first;
    float cc = (float)tr->c;
    for (size_t i = 0; i < n; i++) {
        int g = gold[i], p = pred[i];
        int pg = i ? gold[i - 1] : -1, pp = i ? pred[i - 1] : -1;
        if (g == p && pg == pp)
            continue;
        if (g != p) {
            for (size_t j = cp->foff[first + i]; j < cp->foff[first + i + 1]; j++) {
                size_t r = (size_t)cp->feat[j] * T;
                tr->w[r + g] += 1;
                tr->u[r + g] += cc;
                tr->w[r + p] -= 1;
                tr->u[r + p] -= cc;
            }
        }
        if (i == 0) {
            tr->start[g] += 1;
            tr->ustart[g] += cc;
            tr->start[p] -= 1;
            tr->ustart[p] -= cc;
        } else {
            tr->trans[pg][g] += 1;
            tr->utrans[pg][g] += cc;
            tr->trans[pp][p] -= 1;
            tr->utrans[pp][p] -= cc;
        }
    }
}

/* Averaged weights into (w, start, trans). */
static void average(const trainer *tr, float *w, float *start,
                    float (*trans)[NER_MAX_TAGS])
{
    float c = (float)tr->c;
    for (size_t i = 0; i < tr->rows * tr->T; i++)
        w[i] = tr->w[i] - tr->u[i] / c;
    for (unsigned a = 0; a < tr->T; a++) {
        start[a] = tr->start[a] - tr->ustart[a] / c;
        for (unsigned b = 0; b < tr->T; b++)
            trans[a][b] = tr->trans[a][b] - tr->utrans[a][b] / c;
    }
}

/* ---- evaluation --------------------------------------------------------- */
typedef struct prf {
    size_t tp[NER_MAX_LABELS], np[NER_MAX_LABELS], ng[NER_MAX_LABELS];
} prf;

/* Count exact spans of one sentence. */
static void count_spans(const ner_model *m, const int *gold, const int *pred,
                        size_t n, prf *r)
{
    for (int side = 0; side < 2; side++) {
        const int *x = side ? pred : gold;
        for (size_t i = 0; i < n; i++) {
            if (m->tag_kind[x[i]] != 1)
                continue;
            size_t e = i + 1;
            while (e < n && m->tag_kind[x[e]] == 2 &&
                   m->tag_label[x[e]] == m->tag_label[x[i]])
                e++;
            unsigned l = m->tag_label[x[i]];
            if (side == 0) {
                r->ng[l]++;
                continue;
            }
            r->np[l]++;
            /* same span in gold? */
            if (gold[i] == x[i] && (e == n || !(m->tag_kind[gold[e]] == 2 &&
                                                m->tag_label[gold[e]] == l))) {
                int same = 1;
                for (size_t k = i + 1; k < e; k++)
                    if (gold[k] != x[k])
                        same = 0;
                if (same)
                    r->tp[l]++;
            }
        }
    }
}

static double f1(size_t tp, size_t np, size_t ng)
{
    return np + ng ? 2.0 * (double)tp / (double)(np + ng) : 0.0;
}

/* Span counts of the model (w, start, trans) on cp. 0 or -ENOMEM. */
static int evaluate(const ner_model *m, const float *w, const float *start,
                    const float (*trans)[NER_MAX_TAGS], const corpus *cp, prf *r)
{
    memset(r, 0, sizeof *r);
    unsigned T = m->n_tags;
    size_t maxn = 1;
    for (size_t s = 0; s < cp->c.n_sent; s++)
        if (cp->c.sent[s].n > maxn)
            maxn = cp->c.sent[s].n;
    float *em = malloc(maxn * T * sizeof *em);
    int *bp = malloc(maxn * T * sizeof *bp), *out = malloc(maxn * sizeof *out);
    if (!em || !bp || !out) {
        free(em);
        free(bp);
        free(out);
        return -ENOMEM;
    }
    for (size_t s = 0; s < cp->c.n_sent; s++) {
        size_t first = cp->c.sent[s].first, n = cp->c.sent[s].n;
        emissions(w, T, cp, first, n, em);
        ner_viterbi(T, m->tag_kind, m->tag_label, start, trans, em, n, bp, out);
        count_spans(m, cp->gold + first, out, n, r);
    }
    free(em);
    free(bp);
    free(out);
    return 0;
}

static void print_prf(FILE *f, const ner_model *m, const prf *r)
{
    size_t tp = 0, np = 0, ng = 0;
    for (unsigned l = 0; l < m->n_labels; l++) {
        tp += r->tp[l];
        np += r->np[l];
        ng += r->ng[l];
    }
    fprintf(f, "F1 %.4f (P %.4f R %.4f)", f1(tp, np, ng),
            np ? (double)tp / (double)np : 0.0, ng ? (double)tp / (double)ng : 0.0);
    for (unsigned l = 0; l < m->n_labels; l++)
        fprintf(f, " %s %.4f", m->labels[l], f1(r->tp[l], r->np[l], r->ng[l]));
}

static int load_files(corpus *cp, char *const *files, int n)
{
    char msg[512];
    for (int i = 0; i < n; i++) {
        int rc = conll_read(&cp->c, files[i], msg, sizeof msg);
        if (rc) {
            fprintf(stderr, "docproc-train: %s\n", msg);
            return rc;
        }
    }
    return 0;
}

/* ---- command line ------------------------------------------------------ */
#define MAX_LISTED 32 /* gazetteers, --repeat options */
#define MAX_FILES 256 /* training files that --repeat can address */

typedef struct options {
    char **train; /* argc entries, n_train used */
    int n_train;
    char *dev, *out, *test, *model, *target;
    char *gaz[MAX_LISTED];
    int n_gaz;
    char *rep_file[MAX_LISTED];
    long rep_n[MAX_LISTED];
    int n_rep;
    int quiet;
    long epochs, bits, runs;
    unsigned long seed;
    /* resolved by check_options */
    long file_rep[MAX_FILES]; /* times each --train file is seen per epoch */
    int target_file;          /* index of --target among --train, or -1 */
} options;

/* A number option's value in [lo, hi], or a message and -1. */
static int number_arg(const char *opt, const char *val, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(val, &end, 10);
    if (*end || end == val || v < lo || v > hi) {
        fprintf(stderr, "docproc-train: %s: expected %ld..%ld\n", opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Fill o from argv. Returns 0 to go on, 1 when done (help, version: exit
 * 0), 2 on a usage error (reported). */
static int parse_options(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("docproc-train %s (model format %d, feature set %d)\n",
                   DOCPROC_VERSION, NER_MODEL_VERSION, NER_FEATURE_SET);
            return 1;
        } else if (strcmp(a, "--train") == 0) {
            while (i + 1 < argc && argv[i + 1][0] != '-')
                o->train[o->n_train++] = argv[++i];
            if (o->n_train == 0)
                goto needval;
            continue;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        } else if (strcmp(a, "--domains") == 0) {
            domain_copies = 1;
            continue;
        }
        if (val == NULL)
            goto needval;
        i++;
        if (strcmp(a, "--dev") == 0) {
            o->dev = argv[i];
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            o->out = argv[i];
        } else if (strcmp(a, "--target") == 0) {
            o->target = argv[i];
        } else if (strcmp(a, "--test") == 0) {
            o->test = argv[i];
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) {
            o->model = argv[i];
        } else if (strcmp(a, "--gazetteer") == 0) {
            if (o->n_gaz == MAX_LISTED) {
                fprintf(stderr, "docproc-train: at most %d gazetteers\n", MAX_LISTED);
                return 2;
            }
            o->gaz[o->n_gaz++] = argv[i];
        } else if (strcmp(a, "--repeat") == 0) {
            char *eq = strrchr(argv[i], '='), *end = NULL;
            long r = eq ? strtol(eq + 1, &end, 10) : 0;
            if (eq == NULL || eq == argv[i] || *end || r < 1 || r > 100 ||
                o->n_rep == MAX_LISTED) {
                fprintf(stderr, "docproc-train: --repeat: expected FILE=N, N in 1..100 "
                        "(at most %d)\n", MAX_LISTED);
                return 2;
            }
            *eq = 0;
            o->rep_file[o->n_rep] = argv[i];
            o->rep_n[o->n_rep++] = r;
        } else if (strcmp(a, "--epochs") == 0) {
            if (number_arg(a, argv[i], 1, 1000, &o->epochs))
                return 2;
        } else if (strcmp(a, "--bits") == 0) {
            if (number_arg(a, argv[i], 8, 26, &o->bits))
                return 2;
        } else if (strcmp(a, "--runs") == 0) {
            if (number_arg(a, argv[i], 1, 100, &o->runs))
                return 2;
        } else if (strcmp(a, "--seed") == 0) {
            char *end = NULL;
            o->seed = strtoul(argv[i], &end, 10);
            if (*end) {
                fprintf(stderr, "docproc-train: --seed: expected a number\n");
                return 2;
            }
        } else {
            fprintf(stderr, "docproc-train: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        continue;
    needval:
        fprintf(stderr, "docproc-train: %s needs a value\n", a);
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The options that depend on each other; resolves file_rep and
 * target_file. 0, or 2 on a usage error (reported). */
static int check_options(options *o)
{
    if (o->test ? (o->model == NULL || o->n_train || o->out)
                : (o->n_train == 0 || o->out == NULL)) {
        fprintf(stderr, o->test ? "docproc-train: --test needs -m MODEL (and no --train/-o)\n"
                                : "docproc-train: --train FILE... and -o MODEL are required\n");
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < MAX_FILES; i++)
        o->file_rep[i] = 1;
    for (int r = 0; r < o->n_rep; r++) {
        int found = 0;
        for (int i = 0; i < o->n_train && i < MAX_FILES; i++)
            if (strcmp(o->train[i], o->rep_file[r]) == 0) {
                o->file_rep[i] = o->rep_n[r];
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "docproc-train: --repeat: '%s' is not a --train file\n",
                    o->rep_file[r]);
            return 2;
        }
    }
    o->target_file = -1;
    if (o->target) {
        for (int i = 0; i < o->n_train; i++)
            if (strcmp(o->train[i], o->target) == 0)
                o->target_file = i;
        if (o->target_file < 0 || !domain_copies) {
            fprintf(stderr, "docproc-train: --target needs --domains and one of the "
                    "--train files\n");
            return 2;
        }
    }
    return 0;
}

/* ---- --test: F1 of a model file on a CoNLL file ------------------------ */
static int test_model(const options *o, const gaz *g)
{
    char msg[512];
    ner_model m;
    if (ner_model_load(&m, o->model, msg, sizeof msg)) {
        fprintf(stderr, "docproc-train: %s\n", msg);
        return 1;
    }
    int status = 1;
    corpus tc = {0};
    tagset ts = {0};
    ts.n = m.n_tags;
    memcpy(ts.names, m.tags, sizeof ts.names);
    size_t rows = (size_t)1 << m.hash_bits;
    float *w = malloc(rows * m.n_tags * sizeof *w);
    prf r;
    if (w == NULL) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto out;
    }
    if (load_files(&tc, &o->test, 1))
        goto out;
    if (prepare(&tc, g, m.hash_bits, &ts, -1)) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < rows * m.n_tags; i++)
        w[i] = (float)m.w[i] * m.scale;
    if (evaluate(&m, w, m.start, (const float (*)[NER_MAX_TAGS])m.trans, &tc, &r)) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto out;
    }
    printf("%s: %zu tokens, ", o->test, tc.c.n_tok);
    print_prf(stdout, &m, &r);
    printf("\n");
    status = 0;
out:
    free(w);
    corpus_free(&tc);
    ner_model_free(&m);
    return status;
}

/* ---- training ----------------------------------------------------------- */
/* The tag set of a training corpus: O, then B- and I- of each label in
 * sorted order (reproducible). 0, or -1 with a message. */
static int make_tagset(const corpus *cp, tagset *ts)
{
    char labs[NER_MAX_LABELS][NER_TAGNAME];
    unsigned nl = 0;
    ts->n = 1;
    snprintf(ts->names[0], NER_TAGNAME, "O");
    for (size_t i = 0; i < cp->c.n_tok; i++) {
        const char *t = cp->c.tag[i];
        if (t[0] != 'B')
            continue;
        unsigned l;
        for (l = 0; l < nl; l++)
            if (strcmp(labs[l], t + 2) == 0)
                break;
        if (l < nl)
            continue;
        if (nl == NER_MAX_LABELS || strlen(t + 2) >= NER_TAGNAME - 2) {
            fprintf(stderr, "docproc-train: too many or too long labels\n");
            return -1;
        }
        snprintf(labs[nl++], NER_TAGNAME, "%s", t + 2);
    }
    if (nl == 0) {
        fprintf(stderr, "docproc-train: the training data has no entities\n");
        return -1;
    }
    qsort(labs, nl, NER_TAGNAME, (int (*)(const void *, const void *))strcmp);
    for (unsigned l = 0; l < nl; l++) {
        size_t ll = strnlen(labs[l], NER_TAGNAME - 3);
        for (int bi = 0; bi < 2; bi++) {
            char *nm = ts->names[ts->n++];
            nm[0] = bi ? 'I' : 'B';
            nm[1] = '-';
            memcpy(nm + 2, labs[l], ll);
            nm[2 + ll] = 0;
        }
    }
    return 0;
}

/* Buffers of one training: the sentence order of an epoch (a sentence
 * listed once per repeat of its file) and Viterbi's room for the longest
 * sentence; the averaged model (aw, astart, atrans) and, over several
 * runs, their sum (sw, sstart, strans). */
typedef struct session {
    int *order;
    size_t n_order;
    float *em;
    int *bp, *pred;
    float *aw, *sw;
    float astart[NER_MAX_TAGS], atrans[NER_MAX_TAGS][NER_MAX_TAGS];
    float sstart[NER_MAX_TAGS], strans[NER_MAX_TAGS][NER_MAX_TAGS];
} session;

static void session_free(session *ss)
{
    free(ss->order);
    free(ss->em);
    free(ss->bp);
    free(ss->pred);
    free(ss->aw);
    free(ss->sw);
}

static int session_init(session *ss, const options *o, const trainer *tr,
                        const corpus *cp)
{
    const conll *c = &cp->c;
    size_t maxn = 1;
    for (size_t s = 0; s < c->n_sent; s++) {
        ss->n_order += (size_t)(c->sent[s].file < MAX_FILES ? o->file_rep[c->sent[s].file] : 1);
        if (c->sent[s].n > maxn)
            maxn = c->sent[s].n;
    }
    ss->order = malloc((ss->n_order + 1) * sizeof *ss->order);
    ss->em = malloc(maxn * tr->T * sizeof *ss->em);
    ss->bp = malloc(maxn * tr->T * sizeof *ss->bp);
    ss->pred = malloc(maxn * sizeof *ss->pred);
    ss->aw = malloc(tr->rows * tr->T * sizeof *ss->aw);
    ss->sw = o->runs > 1 ? calloc(tr->rows * tr->T, sizeof *ss->sw) : NULL;
    if (!ss->order || !ss->em || !ss->bp || !ss->pred || !ss->aw || (o->runs > 1 && !ss->sw))
        return -ENOMEM;
    return 0;
}

/* The dev F1 of the averaged model so far, on the progress line. */
static void report_dev(const trainer *tr, session *ss, const corpus *dev, const char *what)
{
    prf r;
    average(tr, ss->aw, ss->astart, ss->atrans);
    if (evaluate(&tr->m, ss->aw, ss->astart, (const float (*)[NER_MAX_TAGS])ss->atrans,
                 dev, &r) == 0) {
        fprintf(stderr, "%s", what);
        print_prf(stderr, &tr->m, &r);
    }
}

/* One pass over the shuffled sentences: Viterbi with the current weights,
 * and an update where the best path is wrong. Returns the sentences
 * wrong. */
static size_t epoch(trainer *tr, session *ss, const corpus *cp, uint64_t *rng)
{
    for (size_t s = ss->n_order; s > 1; s--) { /* Fisher-Yates, xorshift64 */
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        size_t j = (size_t)(*rng % s);
        int tmp = ss->order[s - 1];
        ss->order[s - 1] = ss->order[j];
        ss->order[j] = tmp;
    }
    size_t errors = 0;
    for (size_t k = 0; k < ss->n_order; k++) {
        const conll_sent *st = &cp->c.sent[ss->order[k]];
        emissions(tr->w, tr->T, cp, st->first, st->n, ss->em);
        ner_viterbi(tr->T, tr->m.tag_kind, tr->m.tag_label, tr->start,
                    (const float (*)[NER_MAX_TAGS])tr->trans, ss->em, st->n, ss->bp,
                    ss->pred);
        for (size_t i = 0; i < st->n; i++)
            if (ss->pred[i] != cp->gold[st->first + i]) {
                errors++;
                update(tr, cp, st->first, st->n, ss->pred);
                break;
            }
        tr->c += 1;
    }
    return errors;
}

/* Run `run` of o->runs: fresh weights, its own shuffling seed, o->epochs
 * passes; leaves the averaged model in ss->aw/astart/atrans and adds its
 * share to the sum over runs. */
static void train_run(const options *o, trainer *tr, session *ss, const corpus *cp,
                      const corpus *dev, long run, clock_t t0)
{
    memset(tr->w, 0, tr->rows * tr->T * sizeof *tr->w);
    memset(tr->u, 0, tr->rows * tr->T * sizeof *tr->u);
    memset(tr->start, 0, sizeof tr->start);
    memset(tr->ustart, 0, sizeof tr->ustart);
    memset(tr->trans, 0, sizeof tr->trans);
    memset(tr->utrans, 0, sizeof tr->utrans);
    size_t k = 0;
    for (size_t s = 0; s < cp->c.n_sent; s++) {
        unsigned f = cp->c.sent[s].file;
        for (long q = 0; q < (f < MAX_FILES ? o->file_rep[f] : 1); q++)
            ss->order[k++] = (int)s;
    }
    uint64_t rng = 0x853c49e6748fea9bULL ^
                   (uint64_t)(o->seed + (unsigned long)run) * 0x9E3779B97F4A7C15ULL;
    tr->c = 1;
    for (long ep = 1; ep <= o->epochs; ep++) {
        size_t errors = epoch(tr, ss, cp, &rng);
        if (o->quiet)
            continue;
        if (o->runs > 1)
            fprintf(stderr, "run %ld/%ld ", run + 1, o->runs);
        fprintf(stderr, "epoch %ld/%ld: %zu sentences wrong (%.1f%%), %.1fs", ep,
                o->epochs, errors,
                100.0 * (double)errors / (double)(ss->n_order ? ss->n_order : 1),
                (double)(clock() - t0) / CLOCKS_PER_SEC);
        if (dev)
            report_dev(tr, ss, dev, ", dev ");
        fprintf(stderr, "\n");
    }
    average(tr, ss->aw, ss->astart, ss->atrans);
    if (o->runs == 1)
        return;
    for (size_t i = 0; i < tr->rows * tr->T; i++)
        ss->sw[i] += ss->aw[i] / (float)o->runs;
    for (unsigned a = 0; a < tr->T; a++) {
        ss->sstart[a] += ss->astart[a] / (float)o->runs;
        for (unsigned b = 0; b < tr->T; b++)
            ss->strans[a][b] += ss->atrans[a][b] / (float)o->runs;
    }
}

/* Write the averaged model of the session to o->out. 0 or -1 (reported). */
static int write_model(const options *o, const trainer *tr, tagset *ts,
                       const session *ss)
{
    char msg[512];
    float packed[NER_MAX_TAGS * NER_MAX_TAGS];
    for (unsigned a = 0; a < tr->T; a++)
        for (unsigned b = 0; b < tr->T; b++)
            packed[a * tr->T + b] = ss->atrans[a][b];
    if (ner_model_write(o->out, tr->bits, tr->T, ts->names, ss->astart, packed, ss->aw,
                        msg, sizeof msg)) {
        fprintf(stderr, "docproc-train: %s\n", msg);
        return -1;
    }
    return 0;
}

static int train_model(const options *o, const gaz *g)
{
    clock_t t0 = clock();
    int status = 1;
    corpus tr_c = {0}, dev_c = {0};
    tagset ts = {0};
    trainer tr = {0};
    session ss = {0};
    unsigned bits = (unsigned)o->bits;
    if (load_files(&tr_c, o->train, o->n_train) || make_tagset(&tr_c, &ts))
        goto done;
    if (prepare(&tr_c, g, bits, &ts, 0)) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto done;
    }
    if (o->dev && (load_files(&dev_c, &o->dev, 1) ||
                   prepare(&dev_c, g, bits, &ts, -1)))
        goto done;
    tr.T = ts.n;
    tr.bits = bits;
    tr.rows = (size_t)1 << bits;
    tr.m.n_tags = ts.n;
    memcpy(tr.m.tags, ts.names, sizeof ts.names);
    if (ner_tags_parse(&tr.m)) {
        fprintf(stderr, "docproc-train: bad tags\n");
        goto done;
    }
    tr.w = calloc(tr.rows * tr.T, sizeof *tr.w);
    tr.u = calloc(tr.rows * tr.T, sizeof *tr.u);
    if (!tr.w || !tr.u || session_init(&ss, o, &tr, &tr_c)) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto done;
    }
    if (!o->quiet)
        fprintf(stderr, "docproc-train: %zu tokens, %zu sentences, %u documents, "
                "%u tags, 2^%u buckets\n", tr_c.c.n_tok, tr_c.c.n_sent,
                tr_c.c.n_docs, tr.T, bits);
    for (long run = 0; run < o->runs; run++)
        train_run(o, &tr, &ss, &tr_c, o->dev ? &dev_c : NULL, run, t0);
    if (o->runs > 1) {
        memcpy(ss.aw, ss.sw, tr.rows * tr.T * sizeof *ss.aw);
        memcpy(ss.astart, ss.sstart, sizeof ss.astart);
        memcpy(ss.atrans, ss.strans, sizeof ss.atrans);
        if (o->dev && !o->quiet) {
            prf r;
            if (evaluate(&tr.m, ss.aw, ss.astart, (const float (*)[NER_MAX_TAGS])ss.atrans,
                         &dev_c, &r) == 0) {
                fprintf(stderr, "average of %ld runs: dev ", o->runs);
                print_prf(stderr, &tr.m, &r);
                fprintf(stderr, "\n");
            }
        }
    }
    if (o->target_file >= 0 &&
        fold_domain(ss.aw, tr.rows, tr.T, tr.bits, (uint32_t)o->target_file)) {
        fprintf(stderr, "docproc-train: out of memory\n");
        goto done;
    }
    if (write_model(o, &tr, &ts, &ss))
        goto done;
    if (!o->quiet)
        fprintf(stderr, "docproc-train: wrote %s (%.1fs)\n", o->out,
                (double)(clock() - t0) / CLOCKS_PER_SEC);
    status = 0;
done:
    session_free(&ss);
    free(tr.w);
    free(tr.u);
    corpus_free(&tr_c);
    corpus_free(&dev_c);
    return status;
}

int main(int argc, char **argv)
{
    options o = {.epochs = 12, .bits = 20, .runs = 1, .seed = 1};
    o.train = calloc((size_t)argc, sizeof *o.train);
    if (o.train == NULL)
        return 1;
    int rc = parse_options(argc, argv, &o);
    if (rc == 0)
        rc = check_options(&o);
    if (rc) {
        free(o.train);
        return rc == 1 ? 0 : rc;
    }
    char msg[512];
    gaz g;
    gaz_init(&g);
    int status = 1;
    for (int i = 0; i < o.n_gaz; i++)
        if (gaz_load(&g, o.gaz[i], msg, sizeof msg)) {
            fprintf(stderr, "docproc-train: %s\n", msg);
            goto out;
        }
    status = o.test ? test_model(&o, &g) : train_model(&o, &g);
out:
    gaz_free(&g);
    free(o.train);
    return status;
}
