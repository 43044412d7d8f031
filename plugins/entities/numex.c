/* Numbers and time by rules over tokens: DATE, TIME, MONEY, PERCENT,
 * QUANTITY, CARDINAL, ORDINAL. Tokens may come split ("$", "5", "%") or
 * whole ("$5", "3%", "5pm"); both are handled. */
#include <pthread.h>
#include <string.h>

#include "ent.h"

static int eq(const ner_tok *t, const char *w)
{
    if (t->llen == 0 || w[0] != t->low[0])
        return 0;
    size_t n = strlen(w);
    return t->llen == n && memcmp(t->low, w, n) == 0;
}

static int in(const ner_tok *t, const char *const *list)
{
    for (; *list; list++)
        if (eq(t, *list))
            return 1;
    return 0;
}

static const char *const MONTHS[] = {
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "jan.", "feb.",
    "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.",
    "dec.", NULL};
static const char *const WEEKDAYS[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", NULL};
static const char *const NUMWORDS[] = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
    "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty",
    "sixty", "seventy", "eighty", "ninety", "dozen", "dozens", NULL};
static const char *const SCALES[] = {
    "hundred", "thousand", "million", "billion", "trillion", "hundreds",
    "thousands", "millions", "billions", "bn", "mln", NULL};
static const char *const ORDWORDS[] = {
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth", "thirtieth", "fortieth", "fiftieth",
    "hundredth", "thousandth", "millionth", NULL};
static const char *const CURRWORDS[] = {
    "dollar", "dollars", "euro", "euros", "pound", "pounds", "sterling", "yen",
    "yuan", "renminbi", "rupee", "rupees", "franc", "francs", "ruble",
    "rubles", "rouble", "roubles", "peso", "pesos", "cent", "cents", "won",
    "tenge", "lira", "krona", "kronor", "krone", "rand", "real", "reais",
    "dinar", "dinars", "dirham", "dirhams", "riyal", "riyals", "shekel",
    "shekels", "baht", "ringgit", "hryvnia", "zloty", NULL};
static const char *const CURRSYM[] = {"$", "€", "£", "¥", "₹", "₽", "₸",
                                      "us$", "a$", "c$", "hk$", NULL};
static const char *const UNITS[] = {
    "km", "kilometre", "kilometres", "kilometer", "kilometers", "mile",
    "miles", "metre", "metres", "meter", "meters", "feet", "foot", "ft",
    "inch", "inches", "cm", "mm", "kg", "kilogram", "kilograms", "gram",
    "grams", "tonne", "tonnes", "ton", "tons", "lb", "lbs", "ounce", "ounces",
    "acre", "acres", "hectare", "hectares", "litre", "litres", "liter",
    "liters", "gallon", "gallons", "barrel", "barrels", "degree", "degrees",
    "mph", "km/h", "kph", "knots", "mw", "gw", "kw", "kwh", "megawatts",
    "yards", "yard", "sq", "square", "cubic", NULL};
static const char *const DATEUNITS[] = {
    "day", "days", "week", "weeks", "month", "months", "year", "years",
    "decade", "decades", "century", "centuries", "weekend", "weekends",
    "quarter", NULL};
static const char *const TIMEUNITS[] = {
    "hour", "hours", "minute", "minutes", "seconds", NULL};
static const char *const RELDATE[] = {"today", "yesterday", "tomorrow", NULL};
static const char *const RELMOD[] = {
    "last", "next", "this", "past", "coming", "previous", "following",
    "recent", "same", NULL};
static const char *const SEASONS[] = {"spring", "summer", "autumn", "fall",
                                      "winter", NULL};
static const char *const AMPM[] = {"a.m.", "p.m.", "am", "pm", "a.m", "p.m",
                                   "o'clock", NULL};
static const char *const DAYPARTS[] = {"morning", "afternoon", "evening",
                                       "night", NULL};
static const char *const YEARPREV[] = {
    "in", "since", "by", "from", "until", "till", "to", "of", "during",
    "before", "after", "early", "late", "mid", "around", "circa", "c.", "and",
    "or", "-", "–", "year", "fiscal", "the", ",", "(", NULL};

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* 18, 1,000, 3.5, 2.5bn-less numbers */
static int is_number(const ner_tok *t)
{
    const char *s = t->low;
    size_t n = t->llen;
    if (n == 0 || s[0] < '0' || s[0] > '9')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c < '0' || c > '9') && !((c == ',' || c == '.') && i + 1 < n &&
                                      s[i + 1] >= '0' && s[i + 1] <= '9'))
            return 0;
    }
    return 1;
}

static int number_value_small(const ner_tok *t)
{
    if (!all_digits(t->low, t->llen) || t->llen > 4)
        return -1;
    int v = 0;
    for (size_t i = 0; i < t->llen; i++)
        v = v * 10 + (t->low[i] - '0');
    return v;
}

static int is_numword(const ner_tok *t)
{
    if (in(t, NUMWORDS))
        return 1;
    /* twenty-five */
    const char *d = memchr(t->low, '-', t->llen);
    if (d) {
        ner_tok a = *t, b = *t;
        a.llen = (uint8_t)(d - t->low);
        memmove(b.low, d + 1, (size_t)(t->llen - a.llen - 1));
        b.llen = (uint8_t)(t->llen - a.llen - 1);
        return in(&a, NUMWORDS) && in(&b, NUMWORDS);
    }
    return 0;
}

static int is_year(const ner_tok *t)
{
    int v = number_value_small(t);
    return t->llen == 4 && v >= 1000 && v <= 2099;
}

static int is_day(const ner_tok *t)
{
    int v = number_value_small(t);
    if (v >= 1 && v <= 31 && t->llen <= 2)
        return 1;
    /* 10th, 1st */
    if (t->llen >= 3 && t->llen <= 4 && t->low[0] >= '0' && t->low[0] <= '9') {
        const char *suf = t->low + t->llen - 2;
        return memcmp(suf, "st", 2) == 0 || memcmp(suf, "nd", 2) == 0 ||
               memcmp(suf, "rd", 2) == 0 || memcmp(suf, "th", 2) == 0;
    }
    return 0;
}

static int is_ordinal_digits(const ner_tok *t)
{
    if (t->llen < 3 || t->low[0] < '0' || t->low[0] > '9')
        return 0;
    size_t k = 0;
    while (k < t->llen && t->low[k] >= '0' && t->low[k] <= '9')
        k++;
    if (t->llen - k != 2)
        return 0;
    const char *suf = t->low + k;
    return memcmp(suf, "st", 2) == 0 || memcmp(suf, "nd", 2) == 0 ||
           memcmp(suf, "rd", 2) == 0 || memcmp(suf, "th", 2) == 0;
}

/* Words before a month's full name that make it the month, also for the
 * ones that are words or first names too: "in May", "since June", "early
 * March", "until July". */
static const char *const MONTH_CUES[] = {
    "in", "since", "until", "till", "during", "last", "next", "early",
    "late", "mid", "through", "throughout", "before", "after", "by", NULL};

static int is_month(const ner_tok *t, const ner_tok *all, size_t n, size_t i)
{
    if (!(t->flags & TF_INIT_CAP) || !in(t, MONTHS))
        return 0;
    /* "May", "March", "June", "July" and short forms only next to a day or
     * year, or (full names) after a cue word */
    if (eq(t, "may") || eq(t, "march") || t->llen <= 4) {
        int near = (i + 1 < n && (is_day(&all[i + 1]) || is_year(&all[i + 1]))) ||
                   (i > 0 && is_day(&all[i - 1]));
        int full = eq(t, "may") || eq(t, "march") || eq(t, "june") ||
                   eq(t, "july");
        if (!near && full && i > 0 && in(&all[i - 1], MONTH_CUES))
            near = 1;
        return near;
    }
    return 1;
}

static int tok_is(const ner_tok *t, char c)
{
    return t->llen == 1 && t->low[0] == c;
}

/* "3%" "5pm" "$5" "10:30" glued forms */
static int glued_percent(const ner_tok *t)
{
    return t->llen >= 2 && t->low[t->llen - 1] == '%' && t->low[0] >= '0' &&
           t->low[0] <= '9';
}

static int glued_money(const ner_tok *t)
{
    const unsigned char *s = (const unsigned char *)t->low;
    size_t n = t->llen;
    size_t k = 0;
    if (n >= 2 && s[0] == '$')
        k = 1;
    else if (n >= 3 && (s[0] == 0xc2 && s[1] == 0xa3)) /* £ */
        k = 2;
    else if (n >= 4 && s[0] == 0xe2 && s[1] == 0x82 && s[2] == 0xac) /* € */
        k = 3;
    else if (n >= 4 && memcmp(s, "us$", 3) == 0)
        k = 3;
    return k && s[k] >= '0' && s[k] <= '9';
}

static int clock_time(const ner_tok *t)
{
    /* 10:30, 9:05:00, 5pm, 10am */
    const char *s = t->low;
    size_t n = t->llen, k = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k == 0 || k > 2)
        return 0;
    if (k < n && s[k] == ':') {
        size_t j = k + 1, d = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++, d++;
        return d == 2 && (j == n || (n - j == 2 && (s[j] == 'a' || s[j] == 'p')) ||
                          (j < n && s[j] == ':'));
    }
    return n - k == 2 && (s[k] == 'a' || s[k] == 'p') && s[k + 1] == 'm';
}

static int iso_date(const ner_tok *t)
{
    const char *s = t->low;
    size_t n = t->llen;
    if (n == 10 && s[4] == '-' && s[7] == '-' && all_digits(s, 4) &&
        all_digits(s + 5, 2) && all_digits(s + 8, 2))
        return 1;
    /* 10/01/2022 or 1/2/22 */
    int parts = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (digits == 0 || digits > 4)
                return 0;
            parts++;
            digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9') {
            digits++;
        } else {
            return 0;
        }
    }
    return parts == 2 && digits >= 2 && digits <= 4;
}

static int decade(const ner_tok *t)
{
    /* 1990s, '90s */
    const char *s = t->low;
    size_t n = t->llen;
    if (n == 5 && all_digits(s, 4) && s[4] == 's' && s[3] == '0')
        return 1;
    if (n == 4 && s[0] == '\'' && all_digits(s + 1, 2) && s[3] == 's')
        return 1;
    return 0;
}

/* Extent of a number phrase from i: digits/number words, scales. */
static size_t number_phrase(const ner_tok *t, size_t n, size_t i)
{
    size_t j = i;
    int any = 0;
    while (j < n) {
        if (is_number(&t[j]) || is_numword(&t[j])) {
            any = 1;
            j++;
        } else if (any && in(&t[j], SCALES)) {
            j++;
        } else if (any && j + 2 < n && eq(&t[j], "and") && eq(&t[j + 1], "a") &&
                   eq(&t[j + 2], "half")) {
            j += 3; /* "two and a half million" */
        } else if (any && j + 1 < n && (eq(&t[j], "and") || tok_is(&t[j], '-')) &&
                   is_numword(&t[j + 1]) && j > i && in(&t[j - 1], SCALES)) {
            j++;
        } else {
            break;
        }
    }
    return any ? j : i;
}

static size_t emit(ent_span *out, size_t k, size_t a, size_t b,
                   const char *label)
{
    out[k].start = (uint32_t)a;
    out[k].end = (uint32_t)b;
    out[k].label = label;
    out[k].ref = -1;
    out[k].src = 1;
    return k + 1;
}

/* Every word a rule starts from, as hashes of the lower-case form: tokens
 * without a digit or symbol that are not in this set are skipped fast. */
static hset keywords;
static int keywords_ok;
static pthread_once_t keywords_once = PTHREAD_ONCE_INIT;

static void keywords_init(void)
{
    const char *const *lists[] = {MONTHS, WEEKDAYS, NUMWORDS, ORDWORDS, CURRSYM,
                                  RELDATE, RELMOD, NULL};
    static const char *const extra[] = {"tonight", "noon", "midnight", NULL};
    keywords_ok = 1;
    for (const char *const *const *l = lists; *l; l++)
        for (const char *const *w = *l; *w; w++)
            if (hset_add(&keywords, nh_bytes(NH_SEED, *w, strlen(*w))))
                keywords_ok = 0;
    for (const char *const *w = extra; *w; w++)
        if (hset_add(&keywords, nh_bytes(NH_SEED, *w, strlen(*w))))
            keywords_ok = 0;
}

int numex_init(void)
{
    pthread_once(&keywords_once, keywords_init);
    return keywords_ok ? 0 : -1;
}

static int may_start(const ner_tok *c)
{
    if (!keywords_ok)
        return 1;
    for (size_t i = 0; i < c->slen; i++)
        if (c->shape[i] == 'd' || c->shape[i] == '-' || c->shape[i] == 'o' ||
            c->shape[i] == '$' || c->shape[i] == '%')
            return 1;
    if (c->len == 3 && c->slen == 1 && c->shape[0] == 'X')
        return 1; /* currency codes */
    return hset_has(&keywords, c->h_low);
}

/* One scan of a sentence's tokens: the spans found so far (out[0, k))
 * and the token the rules look at (i). */
typedef struct numex_scan {
    const ner_tok *t;
    size_t n;
    const gaz *g;
    ent_span *out;
    size_t k, i;
} numex_scan;

/* Emit [a, b) and go on after it; a rule's "matched". */
static int take(numex_scan *s, size_t a, size_t b, const char *label)
{
    s->k = emit(s->out, s->k, a, b, label);
    s->i = b;
    return 1;
}

/* Each rule below looks at token s->i: 1 when it matched (spans emitted,
 * s->i past them), 0 to let the next rule try. */

/* Weekdays, months with day and year, ISO dates, decades, "yesterday",
 * "last week", "this morning", "tonight". */
static int date_at(numex_scan *s)
{
    const ner_tok *t = s->t;
    size_t n = s->n;
    size_t i = s->i;
    const ner_tok *c = &t[i];
    const ent_span *out = s->out;
    size_t j, k = s->k;
    if ((c->flags & TF_INIT_CAP) && in(c, WEEKDAYS)) {
        j = i + 1;
        if (j + 1 < n && tok_is(&t[j], ',') && is_month(&t[j + 1], t, n, j + 1))
            j++;
        if (j < n && is_month(&t[j], t, n, j)) {
            j++;
            if (j < n && is_day(&t[j]))
                j++;
            if (j + 1 < n && tok_is(&t[j], ',') && is_year(&t[j + 1]))
                j += 2;
            else if (j < n && is_year(&t[j]))
                j++;
        } else if (j < n && is_day(&t[j]) && j + 1 < n &&
                   is_month(&t[j + 1], t, n, j + 1)) {
            j += 2;
            if (j < n && is_year(&t[j]))
                j++;
        }
        return take(s, i, j, "DATE");
    }
    if (is_month(c, t, n, i)) {
        size_t a = i;
        j = i + 1;
        if (i > 0 && is_day(&t[i - 1]))
            a = i - 1;
        if (j < n && is_day(&t[j])) {
            j++;
            if (j + 1 < n && tok_is(&t[j], ',') && is_year(&t[j + 1]))
                j += 2;
            else if (j < n && is_year(&t[j]))
                j++;
        } else if (j < n && is_year(&t[j])) {
            j++;
        } else if (j + 1 < n && tok_is(&t[j], ',') && is_year(&t[j + 1])) {
            j += 2;
        }
        if (a < i && k && out[k - 1].start == a && out[k - 1].end == a + 1 &&
            strcmp(out[k - 1].label, "CARDINAL") == 0)
            s->k--; /* "10" was taken as a number */
        else if (a < i && k && out[k - 1].end > a) /* day already used */
            a = i;
        return take(s, a, j, "DATE");
    }
    if (iso_date(c) || decade(c)) {
        size_t a = (i > 0 && eq(&t[i - 1], "the") && decade(c)) ? i - 1 : i;
        if (k && out[k - 1].end > a)
            a = i;
        return take(s, a, i + 1, "DATE");
    }
    if (in(c, RELDATE)) {
        return take(s, i, i + 1, "DATE");
    }
    if (in(c, RELMOD) && i + 1 < n &&
        (in(&t[i + 1], DATEUNITS) || in(&t[i + 1], SEASONS) ||
         ((t[i + 1].flags & TF_INIT_CAP) && in(&t[i + 1], WEEKDAYS)))) {
        if (!(eq(c, "recent") && !(eq(&t[i + 1], "years") || eq(&t[i + 1], "months"))) &&
            !(eq(c, "same") || eq(c, "following") || eq(c, "previous"))) {
            return take(s, i, i + 2, "DATE");
        }
    }
    if (in(c, RELMOD) && i + 1 < n && in(&t[i + 1], DAYPARTS) &&
        (eq(c, "this") || eq(c, "last"))) {
        return take(s, i, i + 2, "TIME");
    }
    if (eq(c, "tonight") || eq(c, "noon") || eq(c, "midnight")) {
        return take(s, i, i + 1, "TIME");
    }
    return 0;
}

/* "10:30", "10:30 p.m.", "5 pm". */
static int time_at(numex_scan *s)
{
    const ner_tok *t = s->t;
    size_t n = s->n;
    size_t i = s->i;
    const ner_tok *c = &t[i];
    size_t j;
    if (clock_time(c)) {
        j = i + 1;
        if (j < n && in(&t[j], AMPM))
            j++;
        return take(s, i, j, "TIME");
    }
    if (number_value_small(c) >= 1 && number_value_small(c) <= 12 && i + 1 < n &&
        in(&t[i + 1], AMPM)) {
        return take(s, i, i + 2, "TIME");
    }
    return 0;
}

/* "$5", "US$ 3 million", "EUR 20", "5m"; "12%" as PERCENT. */
static int money_at(numex_scan *s)
{
    const ner_tok *t = s->t;
    size_t n = s->n;
    size_t i = s->i;
    const ner_tok *c = &t[i];
    const gaz *g = s->g;
    size_t j;
    if (in(c, CURRSYM) || (g && c->llen == 3 && c->slen == 1 && c->shape[0] == 'X' &&
                           (gaz_lookup(g, c->s, c->len) & (1u << GZ_CURRENCY)) &&
                           i + 1 < n && is_number(&t[i + 1]))) {
        size_t a = i;
        j = i + 1;
        if (i > 0 && eq(&t[i - 1], "us") && eq(c, "$"))
            a = i - 1;
        size_t e = number_phrase(t, n, j);
        if (e > j) {
            return take(s, a, e, "MONEY");
        }
    }
    if (glued_money(c)) {
        size_t e = i + 1;
        while (e < n && in(&t[e], SCALES))
            e++;
        return take(s, i, e, "MONEY");
    }
    if (glued_percent(c)) {
        return take(s, i, i + 1, "PERCENT");
    }
    return 0;
}

int numex_is_ordinal(const ner_tok *t)
{
    return is_ordinal_digits(t) || in(t, ORDWORDS);
}

/* "1st", "third" (not "a second"). */
static int ordinal_at(numex_scan *s)
{
    const ner_tok *t = s->t;
    size_t i = s->i;
    const ner_tok *c = &t[i];
    if (is_ordinal_digits(c) ||
        (in(c, ORDWORDS) && !(eq(c, "second") && i > 0 && (eq(&t[i - 1], "a") ||
                                                          eq(&t[i - 1], "per"))))) {
        return take(s, i, i + 1, "ORDINAL");
    }
    return 0;
}

/* A number phrase and what follows it: a year as a DATE, PERCENT, MONEY
 * in words, QUANTITY with a unit, a DATE or TIME span ("three years
 * ago"), else CARDINAL; "one" as a pronoun is skipped. */
static int number_at(numex_scan *s)
{
    const ner_tok *t = s->t;
    size_t n = s->n;
    size_t i = s->i;
    const ner_tok *c = &t[i];
    const gaz *g = s->g;
    const ent_span *out = s->out;
    size_t k = s->k;
    size_t e = number_phrase(t, n, i);
    if (e > i) {
        /* year as a date */
        if (e == i + 1 && is_year(c) && !(e < n && (in(&t[e], UNITS) ||
                                                    in(&t[e], CURRWORDS) ||
                                                    tok_is(&t[e], '%'))) &&
            !(i > 0 && in(&t[i - 1], CURRSYM))) {
            int prevok = i == 0 || in(&t[i - 1], YEARPREV) ||
                         (i > 0 && (t[i - 1].flags & TF_INIT_CAP));
            if (prevok) {
                return take(s, i, e, "DATE");
            }
        }
        if (eq(c, "one") && e == i + 1) {
            /* "one" as a pronoun: no one, the one, one of */
            if ((i > 0 && (eq(&t[i - 1], "no") || eq(&t[i - 1], "the") ||
                           eq(&t[i - 1], "any") || eq(&t[i - 1], "every") ||
                           eq(&t[i - 1], "each") || eq(&t[i - 1], "this") ||
                           eq(&t[i - 1], "that") || eq(&t[i - 1], "which"))) ||
                (e < n && (eq(&t[e], "another") || eq(&t[e], "'s")))) {
                s->i = i + 1; /* not a number */
                return 1;
            }
        }
        if (e < n && (tok_is(&t[e], '%') || eq(&t[e], "percent") ||
                      eq(&t[e], "pct"))) {
            return take(s, i, e + 1, "PERCENT");
        }
        if (e + 1 < n && eq(&t[e], "per") && eq(&t[e + 1], "cent")) {
            return take(s, i, e + 2, "PERCENT");
        }
        if (e < n && (in(&t[e], CURRWORDS) ||
                      (g && t[e].llen == 3 && t[e].slen == 1 && t[e].shape[0] == 'X' &&
                       (gaz_lookup(g, t[e].s, t[e].len) & (1u << GZ_CURRENCY))))) {
            size_t f = e + 1;
            if (f < n && eq(&t[f], "sterling"))
                f++;
            return take(s, i, f, "MONEY");
        }
        if (e < n && in(&t[e], UNITS)) {
            size_t f = e + 1;
            if ((eq(&t[e], "square") || eq(&t[e], "sq") || eq(&t[e], "cubic")) &&
                f < n && in(&t[f], UNITS))
                f++;
            else if (eq(&t[e], "square") || eq(&t[e], "cubic"))
                goto cardinal;
            return take(s, i, f, "QUANTITY");
        }
        if (e < n && in(&t[e], DATEUNITS)) {
            size_t f = e + 1;
            if (f < n && (eq(&t[f], "ago") || eq(&t[f], "old") ||
                          eq(&t[f], "earlier") || eq(&t[f], "later")))
                f++;
            size_t a = i;
            if (a > 0 && (eq(&t[a - 1], "the") || eq(&t[a - 1], "past") ||
                          eq(&t[a - 1], "last") || eq(&t[a - 1], "next")) &&
                !(k && out[k - 1].end > a - 1))
                a--;
            if (a > 0 && eq(&t[a], "past") && eq(&t[a - 1], "the") &&
                !(k && out[k - 1].end > a - 1))
                a--;
            return take(s, a, f, "DATE");
        }
        if (e < n && in(&t[e], TIMEUNITS)) {
            return take(s, i, e + 1, "TIME");
        }
    cardinal:
        return take(s, i, e, "CARDINAL");
    }
    return 0;
}

size_t numex_find(const ner_tok *t, size_t n, const gaz *g, ent_span *out)
{
    static int (*const rule[])(numex_scan *) = {date_at, time_at, money_at, ordinal_at,
                                                 number_at};
    numex_scan s = {t, n, g, out, 0, 0};
    while (s.i < n) {
        int matched = 0;
        if (may_start(&t[s.i]))
            for (size_t r = 0; r < sizeof rule / sizeof *rule && !matched; r++)
                matched = rule[r](&s);
        if (!matched)
            s.i++;
    }
    return s.k;
}
