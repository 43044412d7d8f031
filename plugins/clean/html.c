/* HTML input: detection, tag stripping with block elements as paragraph
 * breaks, script/style dropped, white space collapsed as a browser does,
 * character references decoded. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "clean.h"

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *find_ci(const char *s, size_t len, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= len; i++) {
        const char *p = memchr(s + i, needle[0], len - i - m + 1);
        if (p == NULL)
            return NULL;
        i = (size_t)(p - s);
        if (strncasecmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

int clean_is_html(const char *name, const char *text, size_t len)
{
    if (name && (ends_with_ci(name, ".html") || ends_with_ci(name, ".htm") ||
                 ends_with_ci(name, ".xhtml")))
        return 1;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' ||
                       text[i] == '\r'))
        i++;
    const char *s = text + i;
    size_t n = len - i;
    if (n >= 9 && strncasecmp(s, "<!doctype", 9) == 0)
        return find_ci(s, n < 256 ? n : 256, "html") != NULL;
    if (n >= 5 && strncasecmp(s, "<html", 5) == 0)
        return 1;
    /* Otherwise several closing tags near the start. One alone is not
     * enough (prose can mention "</p>"), but a fragment without <html>
     * (a JSON line's "text", a feed item) rarely has only one: its markup
     * is a paragraph plus a link, a span or a script. A script or style
     * element with its closing tag is markup, never prose, and counts as
     * two, so that its code is dropped rather than analysed as text. */
    size_t w = len < 8192 ? len : 8192;
    static const struct {
        const char *tag;
        int weight;
    } tags[] = {{"</p>", 1},     {"</div>", 1},    {"</li>", 1},
                {"</td>", 1},    {"</tr>", 1},     {"</h1>", 1},
                {"</h2>", 1},    {"</h3>", 1},     {"</a>", 1},
                {"</span>", 1},  {"</ul>", 1},     {"</ol>", 1},
                {"<br>", 1},     {"<br/>", 1},     {"<br />", 1},
                {"</body>", 1},  {"</script>", 2}, {"</style>", 2},
                {NULL, 0}};
    int hits = 0;
    for (int k = 0; tags[k].tag && hits < 2; k++) {
        const char *p = text, *end = text + w;
        while (p < end && (p = find_ci(p, (size_t)(end - p), tags[k].tag))) {
            hits += tags[k].weight;
            p += strlen(tags[k].tag);
        }
    }
    return hits >= 2;
}

size_t clean_entity(const clean_cfg *cfg, const char *s, size_t len, size_t i,
                    char *out, size_t *outn)
{
    size_t j = i + 1;
    if (j < len && s[j] == '#') {
        j++;
        int hex = j < len && (s[j] == 'x' || s[j] == 'X');
        if (hex)
            j++;
        size_t d0 = j;
        uint32_t v = 0;
        while (j < len && j - d0 < 8) {
            char c = s[j];
            int dv;
            if (c >= '0' && c <= '9')
                dv = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                dv = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                dv = c - 'A' + 10;
            else
                break;
            v = v * (hex ? 16 : 10) + (uint32_t)dv;
            j++;
        }
        if (j == d0 || j >= len || s[j] != ';')
            return 0;
        if (v >= 0x80 && v <= 0x9F) /* as HTML does: Windows-1252 */
            v = (uint32_t)cfg->pages[CP_1252].hi[v - 0x80];
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        *outn = u8_put((int32_t)v, out);
        return j + 1 - i;
    }
    size_t n0 = j;
    while (j < len && j - n0 < 32 &&
           ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
            (s[j] >= '0' && s[j] <= '9')))
        j++;
    if (j == n0 || j >= len || s[j] != ';')
        return 0;
    const entity *e = entities_find(&cfg->ents, s + n0, j - n0);
    if (e == NULL)
        return 0;
    memcpy(out, e->utf8, e->n);
    *outn = e->n;
    return j + 1 - i;
}

/* Separator levels between text runs. */
enum { SEP_NONE, SEP_SPACE, SEP_LINE, SEP_PARA };

static int is_block(const char *t, size_t n)
{
    static const char *const blocks[] = {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
        "table", "tr", "thead", "tbody", "tfoot", "caption", "blockquote",
        "pre", "section", "article", "header", "footer", "nav", "aside",
        "main", "figure", "figcaption", "hr", "dl", "dt", "dd", "address",
        "form", "fieldset", "legend", "title", "body", "html", "head",
        "details", "summary", "option", "center", "dialog", NULL};
    for (int k = 0; blocks[k]; k++)
        if (strlen(blocks[k]) == n && strncasecmp(blocks[k], t, n) == 0)
            return 1;
    return 0;
}

static int name_is(const char *t, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(name, t, n) == 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Find the end of a tag starting at s[i] == '<': index after its '>', or
 * len when unterminated. Quoted attribute values may hold '>'. */
static size_t tag_end(const char *s, size_t len, size_t i)
{
    char q = 0;
    for (size_t j = i + 1; j < len; j++) {
        char c = s[j];
        if (q) {
            if (c == q)
                q = 0;
        } else if (c == '"' || c == '\'') {
            if (j > 0 && s[j - 1] == '=')
                q = c;
        } else if (c == '>') {
            return j + 1;
        }
    }
    return len;
}

int clean_html(const clean_cfg *cfg, const char *s, size_t len, cbuf *out)
{
    size_t i = 0, gap = 0; /* gap: start of the pending separator */
    int sep = SEP_NONE, started = 0, pre = 0;
    static const char *const seps[] = {"", " ", "\n", "\n\n"};
    out->changed = 1;
    while (i < len) {
        char c = s[i];
        if (c == '<' && i + 1 < len &&
            ((s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
             (s[i + 1] >= 'A' && s[i + 1] <= 'Z') || s[i + 1] == '/' ||
             s[i + 1] == '!' || s[i + 1] == '?')) {
            size_t e;
            if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
                const char *p = find_ci(s + i + 4, len - i - 4, "-->");
                e = p ? (size_t)(p - s) + 3 : len;
            } else {
                e = tag_end(s, len, i);
            }
            size_t t0 = i + 1;
            int closing = t0 < len && s[t0] == '/';
            if (closing)
                t0++;
            size_t t1 = t0;
            while (t1 < e && ((s[t1] >= 'a' && s[t1] <= 'z') ||
                              (s[t1] >= 'A' && s[t1] <= 'Z') ||
                              (s[t1] >= '0' && s[t1] <= '9')))
                t1++;
            const char *tn = s + t0;
            size_t tl = t1 - t0;
            if (sep == SEP_NONE)
                gap = i;
            if (!closing && (name_is(tn, tl, "script") ||
                             name_is(tn, tl, "style") ||
                             name_is(tn, tl, "template"))) {
                /* drop everything up to the closing tag */
                char close[16];
                snprintf(close, sizeof close, "</%.*s", (int)tl, tn);
                const char *p = find_ci(s + e, len - e, close);
                e = p ? tag_end(s, len, (size_t)(p - s)) : len;
                if (sep < SEP_SPACE)
                    sep = SEP_SPACE;
            } else if (name_is(tn, tl, "br")) {
                if (sep < SEP_LINE)
                    sep = SEP_LINE;
            } else if (is_block(tn, tl)) {
                sep = SEP_PARA;
                if (name_is(tn, tl, "pre"))
                    pre = !closing;
            } else if (name_is(tn, tl, "td") || name_is(tn, tl, "th") ||
                       name_is(tn, tl, "img")) {
                if (sep < SEP_SPACE)
                    sep = SEP_SPACE;
            } else if (sep == SEP_NONE) {
                sep = -1; /* inline tag: nothing, but a gap to drop */
            }
            i = e;
            continue;
        }
        if (is_ws(c) && !pre) {
            if (sep == SEP_NONE)
                gap = i;
            if (sep < SEP_SPACE)
                sep = SEP_SPACE;
            i++;
            continue;
        }
        /* text: flush the separator */
        if (sep != SEP_NONE) {
            int lv = sep < 0 ? SEP_NONE : sep;
            if (!started)
                lv = SEP_NONE;
            const char *t = seps[lv];
            if (!(gap + strlen(t) == i && memcmp(s + gap, t, strlen(t)) == 0))
                if (cb_replace(out, gap, i, t, strlen(t)))
                    return -ENOMEM;
            sep = SEP_NONE;
        }
        started = 1;
        if (c == '&') {
            char tmp[16];
            size_t n = 0, el = clean_entity(cfg, s, len, i, tmp, &n);
            if (el) {
                /* an entity for white space is a separator like any other */
                if (!pre && n == 1 && is_ws(tmp[0])) {
                    gap = i;
                    sep = SEP_SPACE;
                } else if (cb_replace(out, i, i + el, tmp, n)) {
                    return -ENOMEM;
                }
                i += el;
                continue;
            }
        }
        i++;
    }
    if (sep != SEP_NONE && cb_replace(out, gap, len, "", 0))
        return -ENOMEM;
    return cb_finish(out, len);
}
