/* Model file, Viterbi decoding and tagging.
 *
 * File format (version 1), little-endian, see docs/entities.md:
 *   0   char[8]  magic "DPNERMDL"
 *   8   u32      version (1)
 *   12  u32      header size H (offset of the weights)
 *   16  u32      hash bits B (feature buckets = 2^B)
 *   20  u32      number of tags T (<= 64)
 *   24  u32      feature set version (NER_FEATURE_SET)
 *   28  u32      0x01020304 (byte-order check)
 *   32  f32      weight scale (weight = int16 value * scale)
 *   36  u32      reserved (0)
 *   40  char[T][24]  tag names: "O", "B-PER", "I-PER", ... NUL-padded
 *   ..  f32[T]       start scores
 *   ..  f32[T][T]    transition scores [from][to]
 *   ..  zero padding to a multiple of 8 = H
 *   H   i16[2^B][T]  feature weights
 *   end u64      checksum of all the bytes before it (see sum64 below)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ner.h"

static uint64_t sum64(const unsigned char *p, size_t n)
{
    uint64_t h = NH_SEED;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

int ner_tags_parse(ner_model *m)
{
    m->n_labels = 0;
    if (m->n_tags == 0 || m->n_tags > NER_MAX_TAGS)
        return -1;
    for (unsigned t = 0; t < m->n_tags; t++) {
        const char *s = m->tags[t];
        if (memchr(s, 0, NER_TAGNAME) == NULL)
            return -1;
        if (strcmp(s, "O") == 0) {
            m->tag_kind[t] = 0;
            m->tag_label[t] = 0;
            continue;
        }
        if ((s[0] != 'B' && s[0] != 'I') || s[1] != '-' || s[2] == 0)
            return -1;
        m->tag_kind[t] = s[0] == 'B' ? 1 : 2;
        unsigned l;
        for (l = 0; l < m->n_labels; l++)
            if (strcmp(m->labels[l], s + 2) == 0)
                break;
        if (l == m->n_labels) {
            if (m->n_labels >= NER_MAX_LABELS)
                return -1;
            size_t ll = strnlen(s + 2, NER_TAGNAME - 3);
            memcpy(m->labels[l], s + 2, ll);
            m->labels[l][ll] = 0;
            m->n_labels++;
        }
        m->tag_label[t] = (uint8_t)l;
    }
    return 0;
}

static size_t header_size(unsigned n_tags)
{
    size_t h = 40 + (size_t)n_tags * NER_TAGNAME + 4 * (size_t)n_tags +
               4 * (size_t)n_tags * n_tags;
    return (h + 7) & ~(size_t)7;
}

int ner_model_load(ner_model *m, const char *path, char *msg, size_t msglen)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, msglen, "%s: cannot open model: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, msglen, "%s: not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    size_t len = (size_t)st.st_size;
    if (len < 48) {
        snprintf(msg, msglen, "%s: not a docproc entities model (too short)", path);
        close(fd);
        return -EINVAL;
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(msg, msglen, "%s: cannot map model: %s", path, strerror(e));
        return -e;
    }
    const unsigned char *p = map;
    uint32_t u[8];
    memcpy(u, p + 8, sizeof u);
    int rc = -EINVAL;
    if (memcmp(p, NER_MODEL_MAGIC, 8) != 0) {
        snprintf(msg, msglen, "%s: not a docproc entities model (bad magic)", path);
        goto fail;
    }
    if (u[5] != 0x01020304u) {
        snprintf(msg, msglen, "%s: model byte order does not match this machine", path);
        goto fail;
    }
    if (u[0] != NER_MODEL_VERSION) {
        snprintf(msg, msglen, "%s: model format version %u, this build reads %u",
                 path, u[0], NER_MODEL_VERSION);
        goto fail;
    }
    /* u[0]=version u[1]=header u[2]=bits u[3]=tags u[4]=feature set */
    unsigned bits = u[2], n_tags = u[3];
    if (u[4] != NER_FEATURE_SET) {
        snprintf(msg, msglen, "%s: model made for feature set %u, this build has %u;"
                 " retrain it with docproc-train", path, u[4], NER_FEATURE_SET);
        goto fail;
    }
    if (bits < 8 || bits > 26 || n_tags < 1 || n_tags > NER_MAX_TAGS ||
        u[1] != header_size(n_tags)) {
        snprintf(msg, msglen, "%s: corrupt model header", path);
        goto fail;
    }
    size_t need = header_size(n_tags) + ((size_t)1 << bits) * n_tags * 2 + 8;
    if (len != need) {
        snprintf(msg, msglen, "%s: model size %zu, expected %zu (truncated?)",
                 path, len, need);
        goto fail;
    }
    uint64_t sum;
    memcpy(&sum, p + len - 8, 8);
    if (sum != sum64(p, len - 8)) {
        snprintf(msg, msglen, "%s: model checksum mismatch (corrupt file)", path);
        goto fail;
    }
    m->hash_bits = bits;
    m->n_tags = n_tags;
    memcpy(&m->scale, p + 32, 4);
    size_t off = 40;
    for (unsigned t = 0; t < n_tags; t++, off += NER_TAGNAME)
        memcpy(m->tags[t], p + off, NER_TAGNAME);
    memcpy(m->start, p + off, 4 * n_tags);
    off += 4 * n_tags;
    for (unsigned a = 0; a < n_tags; a++, off += 4 * n_tags)
        memcpy(m->trans[a], p + off, 4 * n_tags);
    if (ner_tags_parse(m) != 0) {
        snprintf(msg, msglen, "%s: bad tag names in model", path);
        goto fail;
    }
    m->map = map;
    m->map_len = len;
    m->w = (const int16_t *)(p + header_size(n_tags));
    m->stride = (n_tags + NER_ROW_ALIGN - 1) / NER_ROW_ALIGN * NER_ROW_ALIGN;
    size_t rows = (size_t)1 << bits;
    /* rows * stride * 2 bytes is a multiple of 32, as aligned_alloc wants */
    m->wp = aligned_alloc(32, rows * m->stride * sizeof *m->wp);
    if (m->wp == NULL) {
        snprintf(msg, msglen, "%s: out of memory for the model", path);
        rc = -ENOMEM;
        goto fail;
    }
    for (size_t r = 0; r < rows; r++) {
        int16_t *row = m->wp + r * m->stride;
        memcpy(row, m->w + r * n_tags, n_tags * sizeof *row);
        memset(row + n_tags, 0, (m->stride - n_tags) * sizeof *row);
    }
    return 0;
fail:
    munmap(map, len);
    memset(m, 0, sizeof *m);
    return rc;
}

void ner_model_free(ner_model *m)
{
    if (m->map)
        munmap(m->map, m->map_len);
    free(m->wp);
    memset(m, 0, sizeof *m);
}

int ner_model_write(const char *path, unsigned bits, unsigned n_tags,
                    char tags[][NER_TAGNAME], const float *start,
                    const float *trans, const float *w, char *msg,
                    size_t msglen)
{
    size_t rows = (size_t)1 << bits, hs = header_size(n_tags);
    size_t len = hs + rows * n_tags * 2 + 8;
    unsigned char *buf = calloc(1, len);
    if (buf == NULL) {
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    float maxw = 0;
    for (size_t i = 0; i < rows * n_tags; i++) {
        float a = w[i] < 0 ? -w[i] : w[i];
        if (a > maxw)
            maxw = a;
    }
    float scale = maxw > 0 ? maxw / 32767.0f : 1.0f;
    uint32_t u[8] = {NER_MODEL_VERSION, (uint32_t)hs, bits, n_tags,
                     NER_FEATURE_SET, 0x01020304u, 0, 0};
    memcpy(buf, NER_MODEL_MAGIC, 8);
    memcpy(buf + 8, u, 24);
    memcpy(buf + 32, &scale, 4);
    size_t off = 40;
    for (unsigned t = 0; t < n_tags; t++, off += NER_TAGNAME)
        memcpy(buf + off, tags[t], NER_TAGNAME);
    memcpy(buf + off, start, 4 * n_tags);
    off += 4 * n_tags;
    memcpy(buf + off, trans, 4 * (size_t)n_tags * n_tags);
    int16_t *q = (int16_t *)(buf + hs);
    for (size_t i = 0; i < rows * n_tags; i++) {
        float v = w[i] / scale;
        long r = v >= 0 ? (long)(v + 0.5f) : -(long)(-v + 0.5f);
        if (r > 32767) r = 32767;
        if (r < -32767) r = -32767;
        q[i] = (int16_t)r;
    }
    uint64_t sum = sum64(buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        snprintf(msg, msglen, "%s: %s", tmp, strerror(errno));
        free(buf);
        return -EIO;
    }
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(msg, msglen, "%s: cannot write model: %s", path, strerror(errno));
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

/* Four float or int32 lanes: a GCC/Clang vector type, which is one SSE2
 * register on the x86-64 baseline (NEON elsewhere). Wider types would be
 * split by the compiler, and their compares done one lane at a time. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#define VB (NER_MAX_TAGS / 4) /* blocks of four tags in a row at most */

/* a > b ? a : b in each lane (maxps is exactly that, for numbers) */
#ifdef __SSE2__
static inline v4f vmax(v4f a, v4f b)
{
    return (v4f)_mm_max_ps((__m128)a, (__m128)b);
}
#else
static inline v4f vmax(v4f a, v4f b)
{
    v4i gt = a > b;
    return (v4f)(((v4i)a & gt) | ((v4i)b & ~gt));
}
#endif

/* The forward steps of Viterbi over tokens 1..n-1: prev holds the scores
 * of token 0 and gets those of the last token; bp the best predecessors.
 * Going through the "from" tags in increasing order and keeping a score
 * only when it is strictly greater picks the same best predecessor (the
 * first of equal ones) as a scalar loop over "from" for each "to" tag: the
 * same sums, compared in the same order. The scores stay in vectors from
 * one token to the next. Always inlined, so that with T and nb constants
 * (the common case) the loops unroll and the vectors stay in registers. */
static inline __attribute__((always_inline)) void
viterbi_steps(unsigned T, unsigned nb, const v4f (*tr)[VB], const float *em,
              size_t n, int *bp, float *prev)
{
    v4f pv[VB];
    for (unsigned b = 0; b < nb; b++)
        for (unsigned l = 0; l < 4; l++)
            pv[b][l] = b * 4 + l < T ? prev[b * 4 + l] : 0;
    for (size_t i = 1; i < n; i++) {
        v4f best[VB];
        v4i arg[VB];
#pragma GCC unroll 4
        for (unsigned b = 0; b < nb; b++) {
            best[b] = pv[0][0] + tr[0][b];
            arg[b] = (v4i){0, 0, 0, 0};
        }
#pragma GCC unroll 16
        for (unsigned a = 1; a < T; a++) {
            const float pa = pv[a / 4][a % 4];
            const v4i av = {(int32_t)a, (int32_t)a, (int32_t)a, (int32_t)a};
#pragma GCC unroll 4
            for (unsigned b = 0; b < nb; b++) {
                v4f s = pa + tr[a][b];
                v4i gt = s > best[b];
                best[b] = vmax(s, best[b]); /* s where gt, best elsewhere */
                arg[b] ^= (arg[b] ^ av) & gt;
            }
        }
        /* the emissions of token i: whole blocks straight from em while
         * they stay inside it (the lanes past T are never read back) */
        const float *e = em + i * T;
        v4f ev[VB];
        if (i * T + nb * 4 <= n * T)
            memcpy(ev, e, nb * sizeof *ev);
        else
            for (unsigned b = 0; b < nb; b++)
                for (unsigned l = 0; l < 4; l++)
                    ev[b][l] = b * 4 + l < T ? e[b * 4 + l] : 0;
#pragma GCC unroll 4
        for (unsigned b = 0; b < nb; b++)
            pv[b] = best[b] + ev[b];
        int32_t a32[VB * 4];
        memcpy(a32, arg, nb * sizeof *arg);
        for (unsigned t = 0; t < T; t++)
            bp[i * T + t] = a32[t];
    }
    for (unsigned t = 0; t < T; t++)
        prev[t] = pv[t / 4][t % 4];
}

void ner_viterbi(unsigned T, const uint8_t *kind, const uint8_t *label,
                 const float *start, const float (*trans)[NER_MAX_TAGS],
                 const float *em, size_t n, int *bp, int *out)
{
    if (n == 0)
        return;
    const float NEG = -1e30f;
    /* Transitions with the BIO constraint folded in, stored [from][to] and
     * padded to whole blocks, so that a step handles four "to" tags at
     * once. */
    unsigned nb = (T + 3) / 4;
    v4f tr[NER_MAX_TAGS][VB];
    for (unsigned a = 0; a < T; a++)
        for (unsigned b = 0; b < nb; b++)
            for (unsigned l = 0; l < 4; l++) {
                unsigned t = b * 4 + l;
                tr[a][b][l] = t >= T || (kind[t] == 2 && (kind[a] == 0 || label[a] != label[t]))
                                  ? NEG : trans[a][t];
            }
    float prev[NER_MAX_TAGS];
    for (unsigned t = 0; t < T; t++)
        prev[t] = kind[t] == 2 ? NEG : start[t] + em[t];
    if (T == 9) /* the default model: O and B/I of four labels */
        viterbi_steps(9, 3, (const v4f (*)[VB])tr, em, n, bp, prev);
    else
        viterbi_steps(T, nb, (const v4f (*)[VB])tr, em, n, bp, prev);
    int bt = 0;
    for (unsigned t = 1; t < T; t++)
        if (prev[t] > prev[bt])
            bt = (int)t;
    for (size_t i = n; i-- > 0;) {
        out[i] = bt;
        if (i > 0)
            bt = bp[i * T + (size_t)bt];
    }
}

#ifdef __SSE2__
/* acc (two int32 registers per block of eight tags) += the weight rows
 * (nb blocks each) of features f[0..k), widened to 32 bits: the sums are
 * exact, as scalar ones are. */
static inline __attribute__((always_inline)) void
add_rows(__m128i *acc, const int16_t *w, unsigned nb, const uint32_t *f, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        const int16_t *row = w + (size_t)f[j] * nb * NER_ROW_ALIGN;
        for (unsigned b = 0; b < nb; b++) {
            __m128i r = _mm_load_si128((const __m128i *)(const void *)(row + b * NER_ROW_ALIGN));
            /* sign extension: each int16 into the top of an int32, shifted down */
            acc[2 * b] = _mm_add_epi32(acc[2 * b], _mm_srai_epi32(_mm_unpacklo_epi16(r, r), 16));
            acc[2 * b + 1] = _mm_add_epi32(acc[2 * b + 1], _mm_srai_epi32(_mm_unpackhi_epi16(r, r), 16));
        }
    }
}
typedef __m128i acc_t;
#else
static inline __attribute__((always_inline)) void
add_rows(int32_t *acc, const int16_t *w, unsigned nb, const uint32_t *f, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        const int16_t *row = w + (size_t)f[j] * nb * NER_ROW_ALIGN;
        for (unsigned a = 0; a < nb * NER_ROW_ALIGN; a++)
            acc[a] += row[a];
    }
}
typedef int32_t acc_t;
#endif
#define ACC_PER_TAG (sizeof(acc_t) / sizeof(int32_t))

/* The features of one token, gathered a few tokens ahead of their sums. */
typedef struct tok_feats {
    size_t k, wk;    /* context features; word features (0 on a cache hit) */
    size_t slot;     /* cache slot of the word */
    uint64_t key;    /* cache key of the word, 0 when not cached */
    int hit;         /* the word's sum was in the cache when gathered */
    uint32_t f[NER_MAX_CTX_FEATS], wf[NER_MAX_WORD_FEATS];
} tok_feats;

/* Features of token i, and the weight rows they need prefetched, so that
 * memory loads overlap with the sums of the tokens before. */
static void gather(const ner_model *m, const ner_tok *t, size_t n, size_t i,
                   ner_cache *cache, tok_feats *tf)
{
    unsigned S = m->stride;
    tf->k = ner_features_ctx(t, n, i, m->hash_bits, tf->f);
    for (size_t j = 0; j < tf->k; j++)
        __builtin_prefetch(m->wp + (size_t)tf->f[j] * S);
    tf->key = 0;
    tf->hit = 0;
    if (cache && t[i].len <= 64) {
        uint64_t key = t[i].h_word ^ ((uint64_t)t[i].len << 56) ^ 0x2545F4914F6CDD1DULL;
        tf->key = key ? key : 1;
        tf->slot = (size_t)(nh_mix(tf->key) & (NER_CACHE_SLOTS - 1));
        tf->hit = cache->key[tf->slot] == tf->key;
    }
    tf->wk = 0;
    if (!tf->hit) {
        tf->wk = ner_features_word(&t[i], m->hash_bits, tf->wf);
        for (size_t j = 0; j < tf->wk; j++)
            __builtin_prefetch(m->wp + (size_t)tf->wf[j] * S);
    }
}

/* Emission scores of tokens [0, n), nb blocks of eight tags a row.
 * Always inlined, so that with nb a constant (the common case) the sums
 * stay in registers and the copies of them are a few moves. */
static inline __attribute__((always_inline)) void
emissions(const ner_model *m, unsigned nb, const ner_tok *t, size_t n,
          float *em, ner_cache *cache)
{
    unsigned T = m->n_tags, S = nb * NER_ROW_ALIGN;
    /* features gathered (and their rows requested) AHEAD tokens before
     * their sums, in a ring of AHEAD + 1: one token ahead left most of a
     * row's memory latency in the sums; 3 measured best (2 and 4 close) */
    enum { AHEAD = 3 };
    tok_feats ring[AHEAD + 1];
    for (size_t i = 0; i < AHEAD && i < n; i++)
        gather(m, t, n, i, cache, &ring[i]);
    for (size_t i = 0; i < n; i++) {
        acc_t acc[NER_MAX_TAGS / ACC_PER_TAG];
        int32_t sum[NER_MAX_TAGS];
        tok_feats *cur = &ring[i % (AHEAD + 1)];
        if (i + AHEAD < n)
            gather(m, t, n, i + AHEAD, cache, &ring[(i + AHEAD) % (AHEAD + 1)]);
        /* the word's own features: from the cache, or summed and kept */
        if (cur->key && cache->key[cur->slot] == cur->key) {
            memcpy(acc, cache->acc[cur->slot], sizeof(int32_t) * S);
        } else {
            if (cur->hit) /* a token in between took the slot */
                cur->wk = ner_features_word(&t[i], m->hash_bits, cur->wf);
            memset(acc, 0, sizeof(int32_t) * S);
            add_rows(acc, m->wp, nb, cur->wf, cur->wk);
            if (cur->key) {
                cache->key[cur->slot] = cur->key;
                memcpy(cache->acc[cur->slot], acc, sizeof(int32_t) * S);
            }
        }
        add_rows(acc, m->wp, nb, cur->f, cur->k);
        memcpy(sum, acc, sizeof(int32_t) * S);
        for (unsigned a = 0; a < T; a++)
            em[i * T + a] = (float)sum[a] * m->scale;
        for (unsigned a = 0; a < T; a++)
            if (m->tag_kind[a] == 0)
                em[i * T + a] -= m->o_penalty;
    }
}

void ner_tag(const ner_model *m, const ner_tok *t, size_t n, float *em,
             int *bp, int *out, ner_cache *cache)
{
    unsigned nb = m->stride / NER_ROW_ALIGN;
    if (m->stride > 16)
        cache = NULL; /* its rows hold 16 tags */
    if (nb == 2) /* 9 to 16 tags: the default model has 9 */
        emissions(m, 2, t, n, em, cache);
    else
        emissions(m, nb, t, n, em, cache);
    ner_viterbi(m->n_tags, m->tag_kind, m->tag_label, m->start,
                (const float (*)[NER_MAX_TAGS])m->trans, em, n, bp, out);
}
