/* Sentence boundaries on the hard cases of issue 4, one family per test. */
#include "seghelp.h"

static void plain_terminals(void **state)
{
    (void)state;
    SENTS("Hello World. My name is Jonas.", "Hello World. | My name is Jonas.");
    SENTS("What is it? It is mine! Fine.", "What is it? | It is mine! | Fine.");
    SENTS("Hello!! Long time. Hello?! Who?",
          "Hello!! | Long time. | Hello?! | Who?");
    SENTS("  Padded.   \n\n  Text.  ", "Padded. | Text.");
    SENTS("", "");
    SENTS(" \n\t ", "");
    SENTS("no final stop", "no final stop");
}

static void abbreviations(void **state)
{
    (void)state;
    SENTS("Mr. Smith and Dr. Jones met Prof. Lee and Gen. Grant.",
          "Mr. Smith and Dr. Jones met Prof. Lee and Gen. Grant.");
    SENTS("Use a tool, e.g. a hammer, i.e. steel, vs. wood.",
          "Use a tool, e.g. a hammer, i.e. steel, vs. wood.");
    SENTS("They closed the deal with Pitt, Briggs & Co. at noon.",
          "They closed the deal with Pitt, Briggs & Co. at noon.");
    SENTS(
        "They closed the deal with Pitt, Briggs & Co. It closed yesterday.",
        "They closed the deal with Pitt, Briggs & Co. | It closed yesterday.");
    SENTS("I live in the U.S. How about you?",
          "I live in the U.S. | How about you?");
    SENTS("I work for the U.S. Government in Virginia.",
          "I work for the U.S. Government in Virginia.");
    SENTS("Apple Inc. said so. Acme Corp. fell. St. Paul's is here.",
          "Apple Inc. said so. | Acme Corp. fell. | St. Paul's is here.");
    SENTS("He lives on Main St. He likes it. John Smith Jr. He agreed.",
          "He lives on Main St. | He likes it. | John Smith Jr. | He agreed.");
    SENTS("Mr. Smith met Dr. Who at 5 p.m. in London.",
          "Mr. Smith met Dr. Who at 5 p.m. in London.");
    SENTS("Bring pens, paper, etc. The rest is here.",
          "Bring pens, paper, etc. | The rest is here.");
    /* a postscript opens its sentence */
    SENTS("Thanks again Nina. PS. Love the new website!",
          "Thanks again Nina. | PS. Love the new website!");
    SENTS("Email vangie@example.com PS- Were you out?",
          "Email vangie@example.com | PS- Were you out?");
    /* before lower case: only in a text that does not capitalise its
     * sentences, and not after a dotted abbreviation */
    SENTS("Bring pens, paper, etc. and the rest.",
          "Bring pens, paper, etc. and the rest.");
    SENTS("i need food, water etc. the rest can wait. what about the U.S. "
          "in money?",
          "i need food, water etc. | the rest can wait. | what about the U.S. "
          "in money?");
}

static void extra_abbreviations_from_options(void **state)
{
    (void)state;
    seg_teardown(NULL);
    assert_int_equal(
        seg_setup_opts("{\"abbreviations\":[\"Conv\", \"Insp. title\"]}"), 0);
    SENTS("We met at the Conv. Center downtown. Insp. Morse came.",
          "We met at the Conv. Center downtown. | Insp. Morse came.");
    seg_teardown(NULL);
    assert_int_equal(seg_setup(NULL), 0);
    SENTS("We met at the Conv. Center downtown.",
          "We met at the Conv. | Center downtown.");
}

static void initials(void **state)
{
    (void)state;
    SENTS("J. R. R. Tolkien wrote it. George W. Bush read it.",
          "J. R. R. Tolkien wrote it. | George W. Bush read it.");
    SENTS("My name is Jonas E. Smith.", "My name is Jonas E. Smith.");
    SENTS("The temperature was 98.6 F. It rose later.",
          "The temperature was 98.6 F. | It rose later.");
    SENTS("We make a good team, you and I. Did you see Albert I. Jones "
          "yesterday?",
          "We make a good team, you and I. | Did you see Albert I. Jones "
          "yesterday?");
    /* letters that are also number abbreviations (c. 1818, p. 55) */
    SENTS("Later, C. H. Douglas wrote it. Then he left.",
          "Later, C. H. Douglas wrote it. | Then he left.");
    SENTS("Later, C. Douglas and P. G. Wodehouse met.",
          "Later, C. Douglas and P. G. Wodehouse met.");
    SENTS("Built c. 1818. See p. 55. It fell.",
          "Built c. 1818. | See p. 55. | It fell.");
}

static void numbers_and_money(void **state)
{
    (void)state;
    SENTS("She has $100.00 in her bag.", "She has $100.00 in her bag.");
    /* a comparison sign glued to a number starts like the number */
    SENTS("Best in the World! >100 groups. ~5 km away. It is < 3 km.",
          "Best in the World! | >100 groups. | ~5 km away. | It is < 3 km.");
    SENTS("She has $100.00. It is in her bag.",
          "She has $100.00. | It is in her bag.");
    SENTS("Pi is 3.14 and No. 5 won. Turn to p. 55.",
          "Pi is 3.14 and No. 5 won. | Turn to p. 55.");
    SENTS("It ended in 1990. 15 people died.",
          "It ended in 1990. | 15 people died.");
    SENTS("You can find it at N\xC2\xB0. 1026.253.553. That is where.",
          "You can find it at N\xC2\xB0. 1026.253.553. | That is where.");
}

static void times_and_dates(void **state)
{
    (void)state;
    SENTS("The vote is at 5 p.m. Friday, Jan. 10, in Paris.",
          "The vote is at 5 p.m. Friday, Jan. 10, in Paris.");
    SENTS(
        "At 5 a.m. Mr. Smith went to the bank. He left the bank at 6 P.M. Mr. "
        "Smith then went to the store.",
        "At 5 a.m. Mr. Smith went to the bank. | He left the bank at 6 P.M. | "
        "Mr. Smith then went to the store.");
    SENTS("It was born c. 1818 in London.", "It was born c. 1818 in London.");
}

static void ellipses(void **state)
{
    (void)state;
    SENTS("I never meant that.... She left the store.",
          "I never meant that.... | She left the store.");
    SENTS("I wasn't really ... well, what I mean...see . . . what I'm saying, "
          "the thing is . . . I didn't mean it.",
          "I wasn't really ... well, what I mean...see . . . what I'm saying, "
          "the thing is . . . I didn't mean it.");
    SENTS("the peace endeavors in the region . . . This operation failed.",
          "the peace endeavors in the region . . . | This operation failed.");
    SENTS("combining words into compounds. . . . The practice was not "
          "abandoned. . . .",
          "combining words into compounds. | . . . The practice was not "
          "abandoned. . . .");
    SENTS("\"Bohr [...] used the analogy [...]\" (Smith 55).",
          "\"Bohr [...] used the analogy [...]\" (Smith 55).");
    SENTS("Wait\xE2\x80\xA6 Then it came.", "Wait\xE2\x80\xA6 | Then it came.");
}

static void quotes_and_brackets(void **state)
{
    (void)state;
    SENTS("She turned to him, \"This is great.\" she said.",
          "She turned to him, \"This is great.\" she said.");
    /* "[...]" after a finished sentence, before a capital, closes it */
    SENTS("I am sorry, Jonathan Bell. [...] For the intervener, nobody.",
          "I am sorry, Jonathan Bell. [...] | For the intervener, nobody.");
    SENTS("He said [...] Then he left.", "He said [...] Then he left.");
    /* a note in brackets ending its line after a finished sentence */
    SENTS("It has lasted for years. (credit: work by Liz West)\nMost do.",
          "It has lasted for years. | (credit: work by Liz West) | Most do.");
    SENTS("It has lasted for years. (credit: West) and more.\nMost do.",
          "It has lasted for years. (credit: West) and more. | Most do.");
    /* a quote or a bracket standing alone after the terminal closes */
    SENTS("He wrote: ' It is bad. He meant it. ' And then he left.",
          "He wrote: ' It is bad. | He meant it. ' | And then he left.");
    SENTS("(We fly next day. ) Hop onto a bus.",
          "(We fly next day. ) | Hop onto a bus.");
    SENTS("She turned to him, \"This is great.\" She held the book out.",
          "She turned to him, \"This is great.\" | She held the book out.");
    SENTS("He said \xE2\x80\x9CThe war was over.\xE2\x80\x9D He left.",
          "He said \xE2\x80\x9CThe war was over.\xE2\x80\x9D | He left.");
    SENTS("He teaches science (He worked for 5 years as an engineer.) at the "
          "school.",
          "He teaches science (He worked for 5 years as an engineer.) at the "
          "school.");
    SENTS("It was bad. (I hope it ends.) The troops fired.",
          "It was bad. | (I hope it ends.) | The troops fired.");
    SENTS("Who said \"Why?\" Nobody knows.",
          "Who said \"Why?\" | Nobody knows.");
    SENTS(
        "He entered the school in Dulwich. [17] Placed under care, he grew.",
        "He entered the school in Dulwich. [17] | Placed under care, he grew.");
}

static void lists(void **state)
{
    (void)state;
    SENTS("1.) The first item 2.) The second item",
          "1.) The first item | 2.) The second item");
    SENTS("1) The first item. 2) The second item.",
          "1) The first item. | 2) The second item.");
    SENTS("1. The first item 2. The second item",
          "1. The first item | 2. The second item");
    SENTS("a. The first item b. The second item c. The third list item",
          "a. The first item | b. The second item | c. The third list item");
    SENTS("a) apples b) pears", "a) apples | b) pears");
    SENTS("\xE2\x80\xA2 9. The first item \xE2\x80\xA2 10. The second item",
          "\xE2\x80\xA2 9. The first item | \xE2\x80\xA2 10. The second item");
    SENTS("He scored 2. Then 3. Not a list.",
          "He scored 2. | Then 3. | Not a list.");
}

static void urls_and_emails(void **state)
{
    (void)state;
    SENTS("Her email is Jane.Doe@example.com. I sent her an email.",
          "Her email is Jane.Doe@example.com. | I sent her an email.");
    SENTS("The site is: "
          "https://www.example.50.com/new-site/awesome_content.html. Please "
          "check it out.",
          "The site is: "
          "https://www.example.50.com/new-site/awesome_content.html. | Please "
          "check it out.");
    SENTS("Go to www.example.com or example.org now.",
          "Go to www.example.com or example.org now.");
}

static void missing_space(void **state)
{
    (void)state;
    SENTS("Hello world.Today is Tuesday.Mr. Smith went to the store and bought "
          "1,000.That is a lot.",
          "Hello world. | Today is Tuesday. | Mr. Smith went to the store and "
          "bought 1,000. | That is a lot.");
}

static void exclamation_in_names(void **state)
{
    (void)state;
    SENTS("She works at Yahoo! in the accounting department.",
          "She works at Yahoo! in the accounting department.");
    SENTS("Where did you grow up? india? ok.",
          "Where did you grow up? | india? | ok.");
    SENTS("Stuff and What Hi-Fi? are hosting a show.",
          "Stuff and What Hi-Fi? are hosting a show.");
    SENTS("It was worth the ride... I had fun. me too",
          "It was worth the ride... I had fun. me too");
    SENTS("it was worth the ride... I had fun. me too",
          "it was worth the ride... | I had fun. | me too");
}

static void line_breaks(void **state)
{
    (void)state;
    /* a caption or section label: a capitalised word and a dotted number
     * opening a line before a capitalised word */
    SENTS("It grew.\nFigure 1.5 Residents of Boxborough gather in town.",
          "It grew. | Figure 1.5 | Residents of Boxborough gather in town.");
    SENTS("Apollo 11 Astronauts Return\nThey landed.",
          "Apollo 11 Astronauts Return | They landed.");
    SENTS("It grew.\nVersion 2.1 is out.", "It grew. | Version 2.1 is out.");
    /* headlines and list lines end at the line break */
    SENTS("Need of the Kazakh regime\nFor Beijing, it matters.",
          "Need of the Kazakh regime | For Beijing, it matters.");
    SENTS("features\ncontact manager\nevents, activities\n",
          "features | contact manager | events, activities");
    SENTS("From the AP comes this story :\nPresident Bush spoke.",
          "From the AP comes this story : | President Bush spoke.");
    /* hard-wrapped prose goes on in lower case */
    SENTS("This is a sentence\ncut off in the middle because pdf.",
          "This is a sentence\ncut off in the middle because pdf.");
    SENTS("It was a cold \nnight in the city.",
          "It was a cold \nnight in the city.");
    /* but not in text that starts sentences in lower case anyway */
    SENTS("love this park\nthis is a great park for kids",
          "love this park | this is a great park for kids");
    SENTS("One.\n\nTwo", "One. | Two");
}

static void email_conventions(void **state)
{
    (void)state;
    SENTS("Kay Mann 04/26/2001 07:17 AM Will you be there?",
          "Kay Mann | 04/26/2001 07:17 AM | Will you be there?");
    SENTS("Rudwell Johnson/ENRON@enronXgate 03/28/2001 05:09 PM Jeff!",
          "Rudwell Johnson/ENRON@enronXgate | 03/28/2001 05:09 PM | Jeff!");
    /* a field value before a link */
    SENTS("Phone: 814.863.1874 Fax: 814.863.6874 http://example.org/usg",
          "Phone: 814.863.1874 | Fax: 814.863.6874 | http://example.org/usg");
    /* a field value before a sentence starter */
    SENTS("Slope: 0.1171 (0.0022) R Square: 0.0585 Therefore I stopped.",
          "Slope: 0.1171 (0.0022) | R Square: 0.0585 | Therefore I stopped.");
    /* an attachment note closed after its file name */
    SENTS("(See attached file: Sam3102.doc) Regards, Debra",
          "(See attached file: Sam3102.doc) | Regards, | Debra");
    SENTS("(See attached file: A.pdf) (See attached file: B.pdf) I sent it.",
          "(See attached file: A.pdf) (See attached file: B.pdf) | I sent it.");
    /* "<>": a link that was removed */
    SENTS("See the list for the options: <> Capt. Spastic is at: <> "
          "Outlook.jpg",
          "See the list for the options: <> | Capt. Spastic is at: <> | "
          "Outlook.jpg");
    /* a signature "~Name" after a sentence */
    SENTS("\"So loving as a rat.\" ~CGoehring",
          "\"So loving as a rat.\" | ~CGoehring");
    SENTS("It is far. ~5 km.", "It is far. | ~5 km.");
    /* a salutation line "Name," ends what stands before it on its line */
    SENTS("Revised Article 4.6 Debra Perlingiere Kathleen,\nYou are right.",
          "Revised Article 4.6 Debra Perlingiere | Kathleen, | You are right.");
    SENTS("Hope all is well Take Care Traci Traci,\nI have visited it.",
          "Hope all is well Take Care Traci | Traci, | I have visited it.");
    SENTS("The deal looks better.\nPhillip Mery,\nThis sounds better.",
          "The deal looks better. | Phillip | Mery, | This sounds better.");
    /* ...but not in the salutation itself, nor before lower case */
    SENTS("It was late. Dear Nina,\nHere is a tip.",
          "It was late. | Dear Nina, | Here is a tip.");
    SENTS("Dear Dr. Vincent Kaminski,\nHow are you?",
          "Dear Dr. Vincent Kaminski, | How are you?");
    SENTS("Thanks. Hey Vladi,\nDo you have it?",
          "Thanks. | Hey Vladi, | Do you have it?");
    SENTS("Best regards Bob,\nJohn", "Best regards Bob, | John");
    SENTS("He met the team with Mary,\nwho was late.",
          "He met the team with Mary,\nwho was late.");
    SENTS("Let me know. Best regards, Debra Perlingiere",
          "Let me know. | Best regards, | Debra Perlingiere");
    SENTS("Email: davidr...@optonline.net Groups: alt.animals.rabbits",
          "Email: davidr...@optonline.net | Groups: alt.animals.rabbits");
    SENTS("Look: http://a.example/1.html http://a.example/2.html",
          "Look: http://a.example/1.html | http://a.example/2.html");
    SENTS("It is on our site :-) Posted by darin",
          "It is on our site :-) | Posted by darin");
    /* the name after a closing, when more follows on its line */
    SENTS("Please copy it. Thanks, Sean Here you go. It is attached.",
          "Please copy it. | Thanks, | Sean | Here you go. | It is attached.");
    SENTS("Best regards, Debra Perlingiere - ENRON-CPS (GISB rev1).doc",
          "Best regards, | Debra Perlingiere | - ENRON-CPS (GISB rev1).doc");
    /* nothing follows the name but more names: one line ... */
    SENTS("Sincerely, Traci Warner Enron Broadband Services",
          "Sincerely, | Traci Warner Enron Broadband Services");
    /* ... unless the name is repeated to open a signature block */
    SENTS("Sincerely, Traci Traci Warner Enron Broadband Services",
          "Sincerely, | Traci | Traci Warner Enron Broadband Services");
    /* a salutation and its comma open a message */
    SENTS("Hi, Yes storage is still available.",
          "Hi, | Yes storage is still available.");
    SENTS("Thanks.\nDear All, My name is Visit. I used it.",
          "Thanks. | Dear All, | My name is Visit. | I used it.");
    SENTS("Hello Mr. Smith,\nthe parcel has arrived.",
          "Hello Mr. Smith, | the parcel has arrived.");
    SENTS("Hello, world and all, you are here.",
          "Hello, world and all, you are here.");
    /* a no-break space turned into '?' by a lossy encoding */
    SENTS("See the Turbine Contract. ? Do not hesitate to call us.",
          "See the Turbine Contract. | ? | Do not hesitate to call us.");
    SENTS("Call us with any questions. ? Best regards. ? ______ John",
          "Call us with any questions. | ? | Best regards. | ? | ______ | "
          "John");
    SENTS("Is it true ? Yes it is.", "Is it true ? | Yes it is.");
    SENTS("Direct Dial:? 203.961.7523 Direct Fax:? 203.674.7723",
          "Direct Dial:? 203.961.7523 Direct Fax:? 203.674.7723");
    /* an attachment list whose line breaks were lost */
    SENTS("(See attached file: API.pdf) - Stocks.pdf - API.pdf",
          "(See attached file: API.pdf) | - Stocks.pdf | - API.pdf");
    SENTS("Thank you. - TEXT.htm << File: TEXT.htm >> I was thinking.",
          "Thank you. | - TEXT.htm << File: TEXT.htm >> | I was thinking.");
    SENTS("Lisa_cv.doc >> - Lisa_resume.doc << File: Lisa_resume.doc >> FYI",
          "Lisa_cv.doc >> | - Lisa_resume.doc << File: Lisa_resume.doc >> | "
          "FYI");
    SENTS("Borrowing is £35bn - £2.5bn less than planned.",
          "Borrowing is £35bn - £2.5bn less than planned.");
    SENTS("Run it - setup takes a minute. Read the README - it helps.",
          "Run it - setup takes a minute. | Read the README - it helps.");
    /* header fields: a value before the next "Label:" */
    SENTS("Phone: 814.863.1874 Fax: 814.863.6874",
          "Phone: 814.863.1874 | Fax: 814.863.6874");
    SENTS("Intercept: -0.3931 (0.0076) Slope: 0.1171 (0.0022) R Square: 0.05",
          "Intercept: -0.3931 (0.0076) | Slope: 0.1171 (0.0022) | "
          "R Square: 0.05");
    SENTS("He said at 5 Update: none came.", "He said at 5 Update: none came.");
    /* a salutation, a name or a dateline, then a spaced dash */
    SENTS("Thanks.\nGood Morning Debra - I have attached a copy.",
          "Thanks. | Good Morning Debra - | I have attached a copy.");
    SENTS("We agree.\nVince - Thanks for the message.",
          "We agree. | Vince - | Thanks for the message.");
    SENTS("Steve, Rod and Elyse - Just wanted to confirm.",
          "Steve, Rod and Elyse - | Just wanted to confirm.");
    SENTS("TEHRAN (AFP) - An international contest opened.",
          "TEHRAN (AFP) - | An international contest opened.");
    /* an utterance broken off at a spaced em dash and begun again */
    SENTS("Yeah but, not at uh \xE2\x80\x94 This is at six thirty.",
          "Yeah but, not at uh \xE2\x80\x94 | This is at six thirty.");
    SENTS("We need a \xE2\x80\x94 Do you have any?",
          "We need a \xE2\x80\x94 | Do you have any?");
    /* not before "I" or a name, nor at an en dash */
    SENTS("She could, but then af- \xE2\x80\x94 I wanted to stay.",
          "She could, but then af- \xE2\x80\x94 I wanted to stay.");
    SENTS("The star \xE2\x80\x94 Lionel Messi \xE2\x80\x94 scored.",
          "The star \xE2\x80\x94 Lionel Messi \xE2\x80\x94 scored.");
    SENTS("It was not \xE2\x80\x93 For him it was.",
          "It was not \xE2\x80\x93 For him it was.");
    /* a dateline opens a sentence wherever it stands */
    SENTS("Here is what to expect: TEHRAN (AFP) - An international contest.",
          "Here is what to expect: | TEHRAN (AFP) - | An international "
          "contest.");
    SENTS("We flew there: NEW YORK (AP) - The city was calm.",
          "We flew there: | NEW YORK (AP) - | The city was calm.");
    SENTS("They met the UN (WHO) - It was good.",
          "They met the UN (WHO) - It was good.");
    SENTS("Bush - who had won - left. The Senate - Democrats, mostly - met.",
          "Bush - who had won - left. | The Senate - Democrats, mostly - met.");
    SENTS("It went well.\nJohn,\nsorry for not sending it earlier.",
          "It went well. | John, | sorry for not sending it earlier.");
    SENTS("We saw the house, the barn and then,\nbeyond the hill, the sea.",
          "We saw the house, the barn and then,\nbeyond the hill, the sea.");
}

static void separators(void **state)
{
    (void)state;
    SENTS("Steffen W. Graae. *** Bush also nominated him.",
          "Steffen W. Graae. | *** | Bush also nominated him.");
    SENTS("Mike McDermott mike@example.com ______ Get your FREE download",
          "Mike McDermott mike@example.com | ______ | Get your FREE download");
    SENTS("It was cut off to CPS --- do you know why?",
          "It was cut off to CPS --- do you know why?");
    SENTS("It is in the news. -- Posted by Nook",
          "It is in the news. | -- | Posted by Nook");
    /* a banner closed by a rule of four or more symbols glued to it */
    SENTS("***NOTICE**** This message is private.",
          "***NOTICE**** | This message is private.");
    SENTS("Posted via Usenet News==---- The #1 Service in the World!",
          "Posted via Usenet News==---- | The #1 Service in the World!");
    /* three may be a typed dash; lower case goes on */
    SENTS("I was about to go--- Then he came.",
          "I was about to go--- Then he came.");
    SENTS("Usenet News==---- the best one.", "Usenet News==---- the best one.");
    /* symbols glued to a standing rule belong to it */
    SENTS("The World! >100,000 Newsgroups ---= 19 Servers",
          "The World! | >100,000 Newsgroups | ---= 19 Servers");
    SENTS("He said so. ----== Posted via Newsfeed",
          "He said so. | ----== Posted via Newsfeed");
}

static void footnotes_and_links(void **state)
{
    (void)state;
    SENTS("They would be protected by minority rights. 4 Even though few "
          "voted, it passed.",
          "They would be protected by minority rights. 4 | Even though few "
          "voted, it passed.");
    SENTS("It ended in 1990. 15 people died.",
          "It ended in 1990. | 15 people died.");
    SENTS("Posted via Newsfeed.Com today.", "Posted via Newsfeed.Com today.");
    SENTS("A must see for every enthusiast. http://www.example.com",
          "A must see for every enthusiast. | http://www.example.com");
    SENTS("I want to party in San Francisco.. I want it now.",
          "I want to party in San Francisco.. | I want it now.");
    /* a link before a capitalised word ends its sentence... */
    SENTS("Email: franz@example.com Site made! Come and see.",
          "Email: franz@example.com | Site made! | Come and see.");
    SENTS("[http://example.com/story] (New Scientist) NASA is looking.",
          "[http://example.com/story] | (New Scientist) | NASA is looking.");
    /* a credit in brackets opening a sentence is one of its own */
    SENTS("It is said of Islamic Jihad . (Jerusalem Post) \"We are not.\"",
          "It is said of Islamic Jihad . | (Jerusalem Post) | "
          "\"We are not.\"");
    SENTS("(Hat Tip: Captains Quarters ) (BBC) The group said so.",
          "(Hat Tip: Captains Quarters ) | (BBC) | The group said so.");
    SENTS("It rose. (See Table 2) and fell.", "It rose. | (See Table 2) and fell.");
    SENTS("It rose. (In Paris) It fell.", "It rose. | (In Paris) | It fell.");
    /* ...but not an address in a contact line */
    SENTS("Lotte Wilms lotte.wilms@example.nl National Library of Wales",
          "Lotte Wilms lotte.wilms@example.nl National Library of Wales");
    /* a line ending in a link is no hard-wrapped prose */
    SENTS("Here are the pictures of the trip: http://example.com/a.html\n"
          "btw, they are all mine.",
          "Here are the pictures of the trip: http://example.com/a.html | "
          "btw, they are all mine.");
    SENTS("The whole story of the trip is told\nin the newsletter.",
          "The whole story of the trip is told\nin the newsletter.");
}

static void cjk_stops(void **state)
{
    (void)state;
    SENTS("\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82\xE5\x86\x8D\xE8\xA7\x81\xE3\x80"
          "\x82",
          "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82 | "
          "\xE5\x86\x8D\xE8\xA7\x81\xE3\x80\x82");
}

/* The main loop's short cuts (a glued comma, a glued terminal, one-letter
 * words, "word. Next" in decide()) at the edges of what they take: the
 * results of the general rules. */
static void fast_paths(void **state)
{
    (void)state;
    SENTS("Regards, www.example.com has it all.",
          "Regards, | www.example.com has it all.");
    SENTS("Thanks, Bob Smith - Enron", "Thanks, | Bob Smith | - Enron");
    SENTS("I saw a cat. a dog ran. i think so.",
          "I saw a cat. | a dog ran. | i think so.");
    SENTS("He left.\nShe stayed.", "He left. | She stayed.");
    SENTS("It was No. 5 in the list. No. 6 was last.",
          "It was No. 5 in the list. | No. 6 was last.");
    SENTS("Hi, Yes it is. Dear All, My name is Bo.",
          "Hi, | Yes it is. | Dear All, | My name is Bo.");
    SENTS("We met Mr. Smith. Then we left, and a b c. I went.",
          "We met Mr. Smith. | Then we left, and a b c. | I went.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_terminals),
        cmocka_unit_test(abbreviations),
        cmocka_unit_test(extra_abbreviations_from_options),
        cmocka_unit_test(initials),
        cmocka_unit_test(numbers_and_money),
        cmocka_unit_test(times_and_dates),
        cmocka_unit_test(ellipses),
        cmocka_unit_test(quotes_and_brackets),
        cmocka_unit_test(lists),
        cmocka_unit_test(urls_and_emails),
        cmocka_unit_test(missing_space),
        cmocka_unit_test(exclamation_in_names),
        cmocka_unit_test(line_breaks),
        cmocka_unit_test(email_conventions),
        cmocka_unit_test(separators),
        cmocka_unit_test(footnotes_and_links),
        cmocka_unit_test(cjk_stops),
        cmocka_unit_test(fast_paths),
    };
    return cmocka_run_group_tests(tests, seg_setup, seg_teardown);
}
