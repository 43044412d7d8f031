/* Decoding of the raw bytes: UTF-8 (with or without BOM), UTF-16 LE/BE (BOM,
 * or recognised by its zero bytes), invalid UTF-8 bytes as Windows-1252, and
 * the refusal of binary input. */
#include <errno.h>
#include <string.h>

#include "clean.h"

/* Length of the valid UTF-8 sequence at s[i], or 0. */
static size_t seq_len(const unsigned char *s, size_t len, size_t i)
{
    unsigned c = s[i];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + n >= len)
        return 0;
    unsigned cp = c & (0x3F >> n);
    for (size_t k = 1; k <= n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n + 1;
}

/* Index of the first byte that is not ASCII, scanning 8 bytes at a time. */
static size_t ascii_run(const unsigned char *s, size_t len, size_t i)
{
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            break;
        i += 8;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

static int decode_utf16(const unsigned char *raw, size_t len, size_t start,
                        int be, cbuf *out)
{
    size_t i = start;
    char tmp[4];
    while (i < len) {
        if (i + 1 >= len) { /* odd length: a dangling byte */
            if (cb_emit(out, "\xEF\xBF\xBD", 3, i, len))
                return -ENOMEM;
            break;
        }
        unsigned u = be ? (unsigned)(raw[i] << 8 | raw[i + 1])
                        : (unsigned)(raw[i + 1] << 8 | raw[i]);
        size_t used = 2;
        int32_t cp = (int32_t)u;
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            unsigned v = be ? (unsigned)(raw[i + 2] << 8 | raw[i + 3])
                            : (unsigned)(raw[i + 3] << 8 | raw[i + 2]);
            if (v >= 0xDC00 && v <= 0xDFFF) {
                cp = 0x10000 + (int32_t)(((u - 0xD800) << 10) | (v - 0xDC00));
                used = 4;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (cp != 0) { /* a NUL code unit is dropped */
            size_t n = u8_put(cp, tmp);
            if (cb_emit(out, tmp, n, i, i + used))
                return -ENOMEM;
        }
        i += used;
    }
    out->changed = 1;
    if (out->s == NULL) /* empty text */
        return cb_emit(out, "", 0, 0, 0);
    return 0;
}

/* UTF-16 without a BOM: many zero bytes, all on one parity. Returns 1 for
 * little-endian, 2 for big-endian, 0 otherwise. */
static int sniff_utf16(const unsigned char *raw, size_t len)
{
    if (len < 4 || len % 2)
        return 0;
    size_t n = len < 4096 ? len : 4096;
    size_t z_even = 0, z_odd = 0;
    for (size_t i = 0; i < n; i++)
        if (raw[i] == 0) {
            if (i % 2)
                z_odd++;
            else
                z_even++;
        }
    if (z_even == 0 && z_odd * 4 >= n)
        return 1;
    if (z_odd == 0 && z_even * 4 >= n)
        return 2;
    return 0;
}

int clean_decode(const clean_cfg *cfg, const unsigned char *raw, size_t len,
                 cbuf *out, const char **encoding, dp_err *err)
{
    *encoding = "utf-8";
    if (len >= 2 && raw[0] == 0xFF && raw[1] == 0xFE) {
        *encoding = "utf-16le";
        return decode_utf16(raw, len, 2, 0, out);
    }
    if (len >= 2 && raw[0] == 0xFE && raw[1] == 0xFF) {
        *encoding = "utf-16be";
        return decode_utf16(raw, len, 2, 1, out);
    }
    const unsigned char *nul = memchr(raw, 0, len);
    if (nul != NULL) {
        int k = sniff_utf16(raw, len);
        if (k) {
            *encoding = k == 1 ? "utf-16le" : "utf-16be";
            return decode_utf16(raw, len, 0, k == 2, out);
        }
        dp_err_set(err, "binary input: NUL byte at offset %zu",
                   (size_t)(nul - raw));
        return -EILSEQ;
    }
    /* Mostly control bytes: binary. Look at the first 64 KiB. */
    size_t n = len < 65536 ? len : 65536, ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = raw[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
             c != 0x1B) || c == 0x7F)
            ctl++;
    }
    if (n > 0 && (double)ctl > cfg->binary_ratio * (double)n) {
        dp_err_set(err,
                   "binary input: %zu of the first %zu bytes are control "
                   "bytes",
                   ctl, n);
        return -EILSEQ;
    }
    size_t i = 0;
    if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0) {
        if (cb_replace(out, 0, 3, "", 0))
            return -ENOMEM;
        i = 3;
    }
    size_t multi = 0, bad = 0;
    const codepage *w = &cfg->pages[CP_1252];
    char tmp[4];
    while (i < len) {
        i = ascii_run(raw, len, i);
        if (i >= len)
            break;
        size_t k = seq_len(raw, len, i);
        if (k) {
            multi++;
            i += k;
            continue;
        }
        if (!cfg->decode_fallback) {
            dp_err_set(err, "invalid UTF-8 at byte offset %zu", i);
            return -EILSEQ;
        }
        bad++;
        size_t m = u8_put(w->hi[raw[i] - 0x80], tmp);
        if (cb_replace(out, i, i + 1, tmp, m))
            return -ENOMEM;
        i++;
    }
    if (cb_finish(out, len))
        return -ENOMEM;
    if (bad)
        *encoding = multi ? "utf-8+windows-1252" : "windows-1252";
    return 0;
}
