/* Character classes: a table for ASCII, utf8proc for everything else. */
#include <utf8proc.h>

#include "segment.h"

const unsigned char seg_ascii_class[128] = {
    /* controls: \t is a space; \n \v \f \r are line breaks */
    [0 ... 8] = CH_PUNCT,     ['\t'] = CH_SPACE,
    ['\n'] = CH_NL,           ['\v'] = CH_NL,
    ['\f'] = CH_NL,           ['\r'] = CH_NL,
    [14 ... 31] = CH_PUNCT,   [' '] = CH_SPACE,
    ['!' ... '/'] = CH_PUNCT, ['0' ... '9'] = CH_DIGIT,
    [':' ... '@'] = CH_PUNCT, ['A' ... 'Z'] = CH_UPPER,
    ['[' ... '`'] = CH_PUNCT, ['a' ... 'z'] = CH_LOWER,
    ['{' ... 127] = CH_PUNCT,
};

int ch_class_slow(const char *s, size_t len, size_t i, int32_t *cp, size_t *n)
{
    utf8proc_int32_t u;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                          (utf8proc_ssize_t)(len - i), &u);
    if (k <= 0) { /* cannot happen on valid UTF-8; be safe */
        *cp = 0xFFFD;
        *n = 1;
        return CH_PUNCT;
    }
    *cp = u;
    *n = (size_t)k;
    if (u == 0x85 || u == 0x2028 || u == 0x2029)
        return CH_NL;
    switch (utf8proc_category(u)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return CH_UPPER;
    case UTF8PROC_CATEGORY_LL:
        return CH_LOWER;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return CH_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return CH_MARK;
    case UTF8PROC_CATEGORY_CF:
        /* zero-width joiners, soft hyphens: part of the word around them;
         * U+200B ZERO WIDTH SPACE and U+FEFF separate. */
        return (u == 0x200B || u == 0xFEFF) ? CH_SPACE : CH_MARK;
    case UTF8PROC_CATEGORY_ND:
        return CH_DIGIT;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return CH_NUMOTHER;
    case UTF8PROC_CATEGORY_ZS:
        return CH_SPACE;
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return CH_NL;
    default:
        return CH_PUNCT;
    }
}
