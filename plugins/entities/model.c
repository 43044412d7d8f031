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

void ner_viterbi(unsigned T, const uint8_t *kind, const uint8_t *label,
                 const float *start, const float (*trans)[NER_MAX_TAGS],
                 const float *em, size_t n, int *bp, int *out)
{
    if (n == 0)
        return;
    const float NEG = -1e30f;
    /* transitions with the BIO constraint folded in, stored [to][from] so
     * that the inner loop reads one row */
    float tr[NER_MAX_TAGS][NER_MAX_TAGS];
    for (unsigned t = 0; t < T; t++)
        for (unsigned a = 0; a < T; a++)
            tr[t][a] = (kind[t] == 2 && (kind[a] == 0 || label[a] != label[t]))
                           ? NEG : trans[a][t];
    float prev[NER_MAX_TAGS], cur[NER_MAX_TAGS];
    for (unsigned t = 0; t < T; t++)
        prev[t] = kind[t] == 2 ? NEG : start[t] + em[t];
    for (size_t i = 1; i < n; i++) {
        const float *e = em + i * T;
        int *b = bp + i * T;
        for (unsigned t = 0; t < T; t++) {
            const float *row = tr[t];
            float best = prev[0] + row[0];
            int arg = 0;
            for (unsigned a = 1; a < T; a++) {
                float s = prev[a] + row[a];
                if (s > best) {
                    best = s;
                    arg = (int)a;
                }
            }
            cur[t] = best + e[t];
            b[t] = arg;
        }
        memcpy(prev, cur, sizeof(float) * T);
    }
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

void ner_tag(const ner_model *m, const ner_tok *t, size_t n, float *em,
             int *bp, int *out, ner_cache *cache)
{
    unsigned T = m->n_tags;
    if (T > 16)
        cache = NULL;
    uint32_t fa[NER_MAX_FEATS], fbuf[NER_MAX_FEATS];
    uint32_t *f = fa, *next = fbuf;
    size_t k = n ? ner_features_ctx(t, n, 0, m->hash_bits, f) : 0;
    for (size_t i = 0; i < n; i++) {
        int32_t acc[NER_MAX_TAGS] = {0};
        /* context features of the next token first, and their rows
         * prefetched, so that memory loads overlap with this token's sums */
        size_t nk = 0;
        if (i + 1 < n) {
            nk = ner_features_ctx(t, n, i + 1, m->hash_bits, next);
            for (size_t j = 0; j < nk; j++)
                __builtin_prefetch(m->w + (size_t)next[j] * T);
        }
        /* the word's own features: from the cache, or summed and kept */
        uint64_t key = t[i].h_word ^ ((uint64_t)t[i].len << 56) ^ 0x2545F4914F6CDD1DULL;
        if (key == 0)
            key = 1;
        size_t slot = (size_t)(nh_mix(key) & (NER_CACHE_SLOTS - 1));
        if (cache && t[i].len <= 64 && cache->key[slot] == key) {
            memcpy(acc, cache->acc[slot], sizeof(int32_t) * T);
        } else {
            uint32_t wf[NER_MAX_WORD_FEATS];
            size_t wk = ner_features_word(&t[i], m->hash_bits, wf);
            for (size_t j = 0; j < wk; j++) {
                const int16_t *row = m->w + (size_t)wf[j] * T;
                for (unsigned a = 0; a < T; a++)
                    acc[a] += row[a];
            }
            if (cache && t[i].len <= 64) {
                cache->key[slot] = key;
                memcpy(cache->acc[slot], acc, sizeof(int32_t) * T);
            }
        }
        for (size_t j = 0; j < k; j++) {
            const int16_t *row = m->w + (size_t)f[j] * T;
            for (unsigned a = 0; a < T; a++)
                acc[a] += row[a];
        }
        for (unsigned a = 0; a < T; a++)
            em[i * T + a] = (float)acc[a] * m->scale;
        for (unsigned a = 0; a < T; a++)
            if (m->tag_kind[a] == 0)
                em[i * T + a] -= m->o_penalty;
        uint32_t *tmp = f;
        f = next;
        next = tmp;
        k = nk;
    }
    ner_viterbi(T, m->tag_kind, m->tag_label, m->start,
                (const float (*)[NER_MAX_TAGS])m->trans, em, n, bp, out);
}
