/* fakener: a test-only stage that makes, by trivial rules, every layer and
 * output the format writers use, so that the 'formats' suite does not
 * depend on the real stages (written in parallel, and tuned over time):
 *   sentence  ends after '.', '!' or '?' followed by white space, or at a
 *             line break;
 *   token     runs of letters/digits (and any non-ASCII byte), or one
 *             punctuation character; label: "Xxxx" or "xxxx"/"punct";
 *   entity    runs of capitalised tokens in one sentence: "PERSON" when two
 *             or more, else "GPE"; attrs {"ref": first entity of that text};
 *   outputs   "summary" (the first sentence), "keyphrases" (the first two
 *             entity texts), "entity_index".
 * Never installed. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/stage.h>

static const char *const provides[] = {"sentence", "token", "entity", NULL};
static const dp_option options[] = {{NULL, 0, NULL, NULL}};

static int fk_create(const dp_api *api, const json_t *opts,
                     const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)opts;
    (void)data_dir;
    (void)err;
    *instance = NULL;
    return 0;
}

static int is_word(unsigned char c) { return isalnum(c) || c >= 0x80; }

static int fk_process(void *instance, dp_doc *doc, dp_err *err)
{
    const dp_api *api = dp_doc_api(doc);
    size_t len;
    const char *t = api->text(doc, &len);
    int rc = 0;
    (void)instance;
    /* sentences and tokens */
    size_t i = 0, s_start = SIZE_MAX;
    while (i < len && rc == 0) {
        unsigned char c = (unsigned char)t[i];
        if (isspace(c)) {
            if (c == '\n' && s_start != SIZE_MAX) {
                rc = api->annotate(doc, "sentence", s_start, i, NULL, NULL);
                s_start = SIZE_MAX;
            }
            i++;
            continue;
        }
        if (s_start == SIZE_MAX)
            s_start = i;
        size_t st = i;
        const char *shape;
        if (is_word(c)) {
            while (i < len && is_word((unsigned char)t[i]))
                i++;
            shape = isupper(c) ? "Xxxx" : "xxxx";
        } else {
            i++;
            shape = "punct";
        }
        if ((rc = api->annotate(doc, "token", st, i, shape, NULL)))
            break;
        if ((c == '.' || c == '!' || c == '?') &&
            (i == len || isspace((unsigned char)t[i]))) {
            rc = api->annotate(doc, "sentence", s_start, i, NULL, NULL);
            s_start = SIZE_MAX;
        }
    }
    if (rc == 0 && s_start != SIZE_MAX)
        rc = api->annotate(doc, "sentence", s_start, len, NULL, NULL);

    /* entities: capitalised token runs, not across a sentence end */
    size_t nt, ns;
    const dp_ann *tok = api->layer(doc, "token", &nt);
    const dp_ann *sen = api->layer(doc, "sentence", &ns);
    json_t *index = json_array(), *kps = json_array();
    json_t *firsts = json_object(); /* text -> entity number */
    size_t n_ent = 0, si = 0;
    if (index == NULL || kps == NULL || firsts == NULL)
        rc = -ENOMEM;
    for (size_t k = 0; k < nt && rc == 0;) {
        if (strcmp(tok[k].label, "Xxxx") != 0) {
            k++;
            continue;
        }
        while (si < ns && sen[si].end <= tok[k].start)
            si++;
        size_t e = k + 1;
        while (e < nt && strcmp(tok[e].label, "Xxxx") == 0 &&
               (si >= ns || tok[e].end <= sen[si].end))
            e++;
        size_t s0 = tok[k].start, s1 = tok[e - 1].end;
        json_t *txt = json_stringn(t + s0, s1 - s0);
        json_t *seen = json_object_get(firsts, json_string_value(txt));
        json_int_t ref = seen ? json_integer_value(json_object_get(seen, "n"))
                              : (json_int_t)n_ent;
        const char *label = e - k >= 2 ? "PERSON" : "GPE";
        if (seen) {
            json_t *cnt = json_object_get(seen, "entry");
            json_object_set_new(
                cnt, "count",
                json_integer(json_integer_value(json_object_get(cnt, "count")) +
                             1));
        } else {
            json_t *entry = json_pack("{s:O,s:s,s:i}", "text", txt, "label",
                                      label, "count", 1);
            json_array_append_new(index, entry);
            json_object_set_new(firsts, json_string_value(txt),
                                json_pack("{s:I,s:O}", "n", (json_int_t)n_ent,
                                          "entry", entry));
            if (json_array_size(kps) < 2)
                json_array_append_new(
                    kps, json_pack("{s:O,s:f}", "text", txt, "score",
                                   1.0 / (double)(json_array_size(kps) + 1)));
        }
        json_decref(txt);
        rc = api->annotate(doc, "entity", s0, s1, label,
                           json_pack("{s:I}", "ref", ref));
        n_ent++;
        k = e;
    }
    json_decref(firsts);
    if (rc == 0 && ns) {
        rc = api->set_output(
            doc, "summary",
            json_pack("{s:[i],s:s%}", "sentences", 0, "text",
                      t + sen[0].start, sen[0].end - sen[0].start));
    }
    if (rc == 0)
        rc = api->set_output(doc, "keyphrases", json_incref(kps));
    if (rc == 0)
        rc = api->set_output(doc, "entity_index", json_incref(index));
    json_decref(kps);
    json_decref(index);
    if (rc == 0)
        rc = api->export_layer(doc, "sentence", "sentences", DP_EXPORT_SRC);
    if (rc == 0)
        rc = api->export_layer(doc, "entity", "entities",
                               DP_EXPORT_TEXT | DP_EXPORT_SRC);
    if (rc)
        dp_err_set(err, "fakener: error %d", rc);
    return rc;
}

static void fk_destroy(void *instance) { (void)instance; }

static const dp_stage fakener = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .flags = 0,
    .name = "fakener",
    .version = "0.0.1",
    .description = "test stage: sentences, tokens, entities by trivial rules",
    .provides = provides,
    .requires = NULL,
    .options = options,
    .create = fk_create,
    .process = fk_process,
    .destroy = fk_destroy,
};

DP_STAGE_EXPORT(fakener)
