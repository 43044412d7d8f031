/* brat: the standoff format of the brat annotation tool. NAME.txt holds
 * the document's text exactly (the cleaned text, which the offsets refer
 * to); NAME.ann one T-line per entity mention:
 *
 *     T1<TAB>PERSON 0 12<TAB>Barack Obama
 *
 * Offsets count characters (code points) of the .txt, end exclusive, as
 * brat does. A mention that spans a line break becomes a discontinuous
 * annotation, "T2<TAB>ORG 10 15;16 22<TAB>first second", since a T-line's
 * text cannot hold a newline (nor a tab); its fragments are joined by one space, as
 * brat expects. */
#include "format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dp_format_brat_txt(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    size_t len;
    const char *text = dp_host_api.text(doc, &len);
    if (text == NULL) {
        dp_err_set(err, "the document has no text");
        return -EINVAL;
    }
    if (len && sink(text, len, ctx) != 0) {
        dp_err_set(err, "cannot write the brat text");
        return -EIO;
    }
    return 0;
}

/* A label as a brat type: letters, digits, '_', '-' and non-ASCII kept,
 * anything else (white space, '<', '=', ...) made '_'. */
static void brat_type_str(const char *label, char *out, size_t outlen)
{
    size_t o = 0;
    if (label == NULL || *label == 0)
        label = "ENTITY";
    for (const unsigned char *p = (const unsigned char *)label;
         *p && o + 1 < outlen; p++) {
        int ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                 (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                 *p >= 0x80;
        out[o++] = ok ? (char)*p : '_';
    }
    out[o] = 0;
}

static void brat_type(dp_fw *w, const char *label)
{
    char t[256];
    brat_type_str(label, t, sizeof t);
    dp_fw_puts(w, t);
}

static int is_break(char c) { return c == '\n' || c == '\r' || c == '\t'; }

int dp_format_brat_ann(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    size_t len, n;
    const char *text = dp_host_api.text(doc, &len);
    const dp_ann *E = dp_host_api.layer(doc, "entity", &n);
    if (text == NULL) {
        dp_err_set(err, "the document has no text");
        return -EINVAL;
    }
    dp_fw *w = malloc(sizeof *w);
    if (w == NULL) {
        dp_err_set(err, "out of memory writing brat");
        return -ENOMEM;
    }
    dp_fw_init(w, sink, ctx);
    /* Byte to character offsets, walking forward: the layer is sorted. */
    size_t byte = 0, cp = 0, t = 0;
#define CP_AT(b)                                                              \
    do {                                                                      \
        if ((b) < byte) {                                                     \
            byte = 0;                                                         \
            cp = 0;                                                           \
        }                                                                     \
        while (byte < (b))                                                    \
            cp += ((unsigned char)text[byte++] & 0xC0) != 0x80;               \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        size_t s = E[i].start, e = E[i].end;
        /* Trim line breaks at the edges; skip what is left empty. */
        while (s < e && is_break(text[s]))
            s++;
        while (e > s && is_break(text[e - 1]))
            e--;
        if (s >= e)
            continue;
        dp_fw_printf(w, "T%zu\t", ++t);
        brat_type(w, E[i].label);
        /* Fragments: the runs between line breaks. */
        size_t fs = s;
        int first = 1;
        while (fs < e) {
            size_t fe = fs;
            while (fe < e && !is_break(text[fe]))
                fe++;
            CP_AT(fs);
            size_t cs = cp;
            CP_AT(fe);
            dp_fw_printf(w, "%s%zu %zu", first ? " " : ";", cs, cp);
            first = 0;
            fs = fe;
            while (fs < e && is_break(text[fs]))
                fs++;
        }
        dp_fw_puts(w, "\t");
        fs = s;
        first = 1;
        while (fs < e) {
            size_t fe = fs;
            while (fe < e && !is_break(text[fe]))
                fe++;
            if (!first)
                dp_fw_puts(w, " ");
            dp_fw_put(w, text + fs, fe - fs);
            first = 0;
            fs = fe;
            while (fs < e && is_break(text[fs]))
                fs++;
        }
        dp_fw_puts(w, "\n");
    }
#undef CP_AT
    int rc = dp_fw_finish(w, err);
    free(w);
    return rc;
}

/* ---- annotation.conf and visual.conf ------------------------------------ */

static const char conf_mark[] = "# docproc:";

/* Types listed in the [entities] section of a docproc-written
 * annotation.conf, added to `types`. A file docproc did not write: 1. */
static int read_conf(const char *path, json_t *types)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[512];
    int ours = 0, in_entities = 0, first = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (first) {
            ours = strncmp(line, conf_mark, strlen(conf_mark)) == 0;
            first = 0;
            if (!ours)
                break;
            continue;
        }
        if (line[0] == '[') {
            in_entities = strcmp(line, "[entities]") == 0;
            continue;
        }
        if (in_entities && line[0] && line[0] != '#')
            json_object_set_new(types, line, json_true());
    }
    fclose(f);
    return first ? 0 : !ours;
}

static int write_conf(const char *dir, const char *name, const char *body,
                      dp_err *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        dp_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
        return -EIO;
    }
    int ok = fputs(body, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        dp_err_set(err, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

int dp_format_brat_conf(const char *dir, json_t *labels, dp_err *err)
{
    char path[4096];
    json_t *types = json_object();
    dp_membuf ann = {0}, vis = {0};
    int rc = -ENOMEM;
    if (types == NULL)
        goto out;
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) {
        char t[256];
        brat_type_str(k, t, sizeof t);
        if (json_object_set_new(types, t, json_true()) != 0)
            goto out;
    }
    snprintf(path, sizeof path, "%s/annotation.conf", dir);
    int theirs = read_conf(path, types);
    snprintf(path, sizeof path, "%s/visual.conf", dir);
    FILE *vf = fopen(path, "r");
    char first[64] = "";
    if (vf) {
        if (fgets(first, sizeof first, vf) == NULL)
            first[0] = 0;
        fclose(vf);
    }
    int theirs_vis = vf && strncmp(first, conf_mark, strlen(conf_mark)) != 0;

    static const char head[] =
        "# docproc: the entity types of the brat files in this folder, "
        "written by\n# docproc --format brat (types are added on each run; "
        "remove this line to\n# keep the file as it is).\n";
    if (dp_sink_membuf(head, strlen(head), &ann) ||
        dp_sink_membuf(head, strlen(head), &vis) ||
        dp_sink_membuf("[entities]\n", 11, &ann) ||
        dp_sink_membuf("[labels]\n[drawing]\n", 19, &vis))
        goto out;
    json_object_foreach(types, k, v) {
        if (dp_sink_membuf(k, strlen(k), &ann) ||
            dp_sink_membuf("\n", 1, &ann))
            goto out;
        const char *c = dp_format_label_colour(k);
        if (c) {
            char line[300];
            int n = snprintf(line, sizeof line, "%s\tbgColor:%s\n", k, c);
            if (dp_sink_membuf(line, (size_t)n, &vis))
                goto out;
        }
    }
    static const char tail[] = "[relations]\n[events]\n[attributes]\n";
    if (dp_sink_membuf(tail, strlen(tail), &ann))
        goto out;
    rc = 0;
    if (!theirs)
        rc = write_conf(dir, "annotation.conf", ann.data, err);
    if (rc == 0 && !theirs_vis)
        rc = write_conf(dir, "visual.conf", vis.data, err);
out:
    if (rc == -ENOMEM)
        dp_err_set(err, "out of memory");
    json_decref(types);
    dp_membuf_free(&ann);
    dp_membuf_free(&vis);
    return rc;
}
