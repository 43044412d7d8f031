/* Unicode clean-up: line endings, control characters, odd spaces,
 * zero-width characters, C1 controls read as Windows-1252, full-width ASCII
 * and Latin ligatures folded, character references decoded (plain text),
 * and NFC normalisation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "clean.h"

/* Bytes the first pass must look at. */
/* Bytes the first pass must look at: controls, '&', and the lead bytes of
 * the characters it changes (C2: C1 controls, U+00A0, U+00AD; C4/C5/C7:
 * ligatures; E1: U+1680; E2: odd spaces, zero-width, separators; E3:
 * U+3000; EF: U+FEFF, ligatures, full-width forms). Other non-ASCII bytes,
 * continuations included, are skipped. */
static int interesting(unsigned char c, int ents)
{
    return c == 0xC2 || c == 0xC4 || c == 0xC5 || c == 0xC7 || c == 0xE1 ||
           c == 0xE2 || c == 0xE3 || c == 0xEF ||
           (c < 0x20 && c != '\n' && c != '\t') || c == 0x7F ||
           (ents && c == '&');
}

static int fold_compat(int32_t cp)
{
    return (cp >= 0xFF01 && cp <= 0xFF5E) || (cp >= 0xFB00 && cp <= 0xFB06) ||
           cp == 0x0132 || cp == 0x0133 || (cp >= 0x01C4 && cp <= 0x01CC) ||
           (cp >= 0x01F1 && cp <= 0x01F3);
}

int clean_unicode(const clean_cfg *cfg, const char *s, size_t len, cbuf *out,
                  int entities)
{
    unsigned char tab[256];
    for (int c = 0; c < 256; c++)
        tab[c] = (unsigned char)interesting((unsigned char)c, entities);
    size_t i = 0;
    char tmp[32];
    while (i < len) {
        while (i < len && !tab[(unsigned char)s[i]])
            i++;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '\r') {
                size_t e = i + 1 < len && s[i + 1] == '\n' ? i + 2 : i + 1;
                if (cb_replace(out, i, e, "\n", 1))
                    return -ENOMEM;
                i = e;
            } else if (c == '\f' || c == '\v') {
                if (cb_replace(out, i, i + 1, "\n", 1))
                    return -ENOMEM;
                i++;
            } else if (c == '&') {
                size_t n = 0, el = clean_entity(cfg, s, len, i, tmp, &n);
                if (el && cb_replace(out, i, i + el, tmp, n))
                    return -ENOMEM;
                i += el ? el : 1;
            } else { /* other C0 controls and DEL */
                if (cb_replace(out, i, i + 1, "", 0))
                    return -ENOMEM;
                i++;
            }
            continue;
        }
        size_t n;
        int32_t cp = u8_get(s, len, i, &n);
        const char *rep = NULL;
        size_t rn = 0;
        if (cp >= 0x80 && cp <= 0x9F) {
            int32_t w = cfg->pages[CP_1252].hi[cp - 0x80];
            if (w != cp) {
                rn = u8_put(w, tmp);
                rep = tmp;
            } else {
                rep = ""; /* undefined in Windows-1252 too: a control */
            }
        } else if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
                   cp == 0x202F || cp == 0x205F || cp == 0x3000) {
            rep = " ";
            rn = 1;
        } else if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF || cp == 0xAD) {
            rep = "";
        } else if (cp == 0x2028) {
            rep = "\n";
            rn = 1;
        } else if (cp == 0x2029) {
            rep = "\n\n";
            rn = 2;
        } else if (cfg->fold_width && cp == 0x0149) {
            rep = "\xE2\x80\x99n"; /* ŉ: apostrophe + n */
            rn = 4;
        } else if (cfg->fold_width && fold_compat(cp)) {
            utf8proc_int32_t d[8];
            int last = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char(
                cp, d, 8, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, &last);
            if (k > 0 && k <= 4) {
                for (utf8proc_ssize_t q = 0; q < k; q++)
                    rn += u8_put(d[q], tmp + rn);
                rep = tmp;
            }
        }
        if (rep && cb_replace(out, i, i + n, rep, rn))
            return -ENOMEM;
        i += n;
    }
    return cb_finish(out, len);
}

/* A character that may change under NFC in some context. */
static int nfc_suspect(int32_t cp)
{
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->combining_class != 0 || p->comp_exclusion)
        return 1;
    if (p->category == UTF8PROC_CATEGORY_MN ||
        p->category == UTF8PROC_CATEGORY_MC ||
        p->category == UTF8PROC_CATEGORY_ME)
        return 1;
    if (cp >= 0x1100 && cp <= 0x11FF) /* Hangul jamo */
        return 1;
    /* canonical singletons (Ω, Å, K signs, CJK compatibility ideographs,
     * Greek tonos forms): precomposed letters such as é are stable */
    return (cp >= 0x2126 && cp <= 0x212B) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x2F800 && cp <= 0x2FA1F) || (cp >= 0x1F70 && cp <= 0x1FFD) ||
           cp == 0x0340 || cp == 0x0341 || cp == 0x0343 || cp == 0x0374 ||
           cp == 0x037E || cp == 0x0387 || cp == 0x2000 || cp == 0x2001 ||
           cp == 0x2329 || cp == 0x232A;
}

int clean_nfc(const char *s, size_t len, cbuf *out)
{
    utf8proc_int32_t stack[512];
    size_t i = 0;
    while (i < len) {
        while (i < len && (unsigned char)s[i] < 0x80)
            i++;
        if (i >= len)
            break;
        /* a run of non-ASCII characters, with the ASCII starter before it */
        size_t start = i > out->done && i > 0 ? i - 1 : i;
        int suspect = 0;
        while (i < len && (unsigned char)s[i] >= 0x80) {
            size_t n;
            int32_t cp = u8_get(s, len, i, &n);
            if (!suspect && nfc_suspect(cp))
                suspect = 1;
            i += n;
        }
        if (!suspect)
            continue;
        size_t clen = i - start;
        utf8proc_int32_t *buf = stack;
        utf8proc_ssize_t cap = (utf8proc_ssize_t)(sizeof stack / sizeof *stack);
        const utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
        utf8proc_ssize_t k = utf8proc_decompose(
            (const utf8proc_uint8_t *)s + start, (utf8proc_ssize_t)clen, buf,
            cap, opt);
        if (k > cap) {
            buf = malloc((size_t)k * sizeof *buf);
            if (buf == NULL)
                return -ENOMEM;
            cap = k;
            k = utf8proc_decompose((const utf8proc_uint8_t *)s + start,
                                   (utf8proc_ssize_t)clen, buf, cap, opt);
        }
        if (k >= 0) {
            utf8proc_ssize_t m = utf8proc_reencode(buf, k, opt);
            if (m >= 0 && ((size_t)m != clen ||
                           memcmp(buf, s + start, clen) != 0)) {
                if (cb_replace(out, start, i, (const char *)buf, (size_t)m)) {
                    if (buf != stack)
                        free(buf);
                    return -ENOMEM;
                }
            }
        }
        if (buf != stack)
            free(buf);
    }
    return cb_finish(out, len);
}
