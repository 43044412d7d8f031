/* Token rules of the segment stage: Penn-Treebank-like splitting and the
 * shape classes later stages read. */
#include "seghelp.h"

static void punctuation_split(void **state)
{
    (void)state;
    TOKS("Hello, world! (Really?)",
         "Hello | , | world | ! | ( | Really | ? | )");
    TOKS("\"Quoted,\" she said.", "\" | Quoted | , | \" | she | said | .");
    TOKS("Wait... what?!", "Wait | ... | what | ?!");
    TOKS("It costs $5.", "It | costs | $ | 5 | .");
}

static void clitics(void **state)
{
    (void)state;
    TOKS("I don't know", "I | do | n't | know");
    TOKS("Russia's army", "Russia | 's | army");
    TOKS("they're, we've, I'll, she'd, I'm",
         "they | 're | , | we | 've | , | I | 'll | , | she | 'd | , | I | 'm");
    TOKS("can't won't", "ca | n't | wo | n't");
    TOKS("Russia\xE2\x80\x99s", "Russia | \xE2\x80\x99s");
    TOKS("O'Brien rock'n'roll", "O'Brien | rock'n'roll");
    TOKS("the students' books", "the | students | ' | books");
}

static void compounds_and_numbers(void **state)
{
    (void)state;
    TOKS("a 15-year term, F-16-launched",
         "a | 15-year | term | , | F-16-launched");
    TOKS("3,500.25 and 3.14 and 1,000", "3,500.25 | and | 3.14 | and | 1,000");
    TOKS("at 09:25 on 05/22/2001", "at | 09:25 | on | 05/22/2001");
    TOKS("AT&T -- the firm", "AT&T | -- | the | firm");
}

static void abbreviations_keep_their_period(void **state)
{
    (void)state;
    TOKS("Mr. Smith met Dr. Who at 5 p.m. in the U.S.",
         "Mr. | Smith | met | Dr. | Who | at | 5 | p.m. | in | the | U.S.");
    TOKS("J. R. R. Tolkien", "J. | R. | R. | Tolkien");
    TOKS("No. 5 and no way.", "No. | 5 | and | no | way | .");
    TOKS("Jr.'s book", "Jr. | 's | book");
}

static void urls_emails_handles_whole(void **state)
{
    (void)state;
    TOKS("See https://www.example.50.com/new-site/awesome_content.html.",
         "See | https://www.example.50.com/new-site/awesome_content.html | .");
    TOKS("(www.example.com/a_(b))", "( | www.example.com/a_(b) | )");
    TOKS("Mail Jane.Doe@example.com.", "Mail | Jane.Doe@example.com | .");
    TOKS("@docproc likes #NLP2024!", "@docproc | likes | #NLP2024 | !");
}

static void glued_sentences_split(void **state)
{
    (void)state;
    TOKS("world.Today is", "world | . | Today | is");
    TOKS("bought 1,000.That", "bought | 1,000 | . | That");
    TOKS("see example.com now", "see | example.com | now");
}

static void ellipses_and_emoticons(void **state)
{
    (void)state;
    TOKS("so . . . what", "so | . . . | what");
    TOKS("end. . . . Next", "end | . | . . . | Next");
    TOKS("nice :-) really :P", "nice | :-) | really | :P");
    TOKS("at 10:30", "at | 10:30");
}

static void shapes(void **state)
{
    (void)state;
    SHAPES("Paris NASA iPhone 2024 the Kassym-Jomart 5th !",
           "Paris/Xxxx | NASA/XX | iPhone/mixed | 2024/dd | the/xxxx | "
           "Kassym-Jomart/Xxxx | 5th/mixed | !/punct");
    SHAPES("U.S. I \xC3\x89tienne \xD0\xBC\xD0\xB8\xD1\x80",
           "U.S./XX | I/Xxxx | \xC3\x89tienne/Xxxx | "
           "\xD0\xBC\xD0\xB8\xD1\x80/xxxx");
}

/* Words longer than the 16-byte block of the fast scan: the run and its
 * capitals are counted across blocks and up to the end of the text. */
static void long_words(void **state)
{
    (void)state;
    SHAPES("Pneumonoultramicroscopicsilicovolcanoconiosis "
           "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH abcdefghijklmnopqRstuvwxyz, "
           "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh",
           "Pneumonoultramicroscopicsilicovolcanoconiosis/Xxxx | "
           "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH/XX | "
           "abcdefghijklmnopqRstuvwxyz/mixed | ,/punct | "
           "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh/xxxx");
    TOKS("Supercalifragilisticexpialidocious. Anticonstitutionnellement's "
         "abcdefghijklmnop-qrstuvwxyzabcdefghij\xC3\xA9tude.",
         "Supercalifragilisticexpialidocious | . | "
         "Anticonstitutionnellement | 's | "
         "abcdefghijklmnop-qrstuvwxyzabcdefghij\xC3\xA9tude | .");
}

static void offsets_are_bytes_of_the_text(void **state)
{
    (void)state;
    const char *text = "  Caf\xC3\xA9 \xE2\x80\x9C"
                       "done\xE2\x80\x9D.";
    dp_doc *doc = seg_run(text);
    assert_non_null(doc);
    size_t n;
    const dp_ann *a = dp_doc_layer(doc, "token", &n);
    assert_int_equal(n, 5);
    assert_int_equal(a[0].start, 2);
    assert_int_equal(a[0].end, 7);
    assert_int_equal(a[1].start, 8);
    assert_int_equal(a[1].end, 11);
    assert_int_equal(a[4].end, strlen(text));
    dp_doc_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(punctuation_split),
        cmocka_unit_test(clitics),
        cmocka_unit_test(compounds_and_numbers),
        cmocka_unit_test(abbreviations_keep_their_period),
        cmocka_unit_test(urls_emails_handles_whole),
        cmocka_unit_test(glued_sentences_split),
        cmocka_unit_test(ellipses_and_emoticons),
        cmocka_unit_test(shapes),
        cmocka_unit_test(long_words),
        cmocka_unit_test(offsets_are_bytes_of_the_text),
    };
    return cmocka_run_group_tests(tests, seg_setup, seg_teardown);
}
