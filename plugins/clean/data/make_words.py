#!/usr/bin/env python3
"""Build words.txt (the word list the clean stage uses to decide whether a
word hyphenated across a line break is one word: "inter-\\nnational" ->
"international") from the SCOWL list of the Debian package wamerican.

    python3 make_words.py [/usr/share/dict/words] > words.txt

Keeps lowercase alphabetic ASCII entries of at least 4 letters (hyphen
joining never needs shorter ones), drops possessives and proper names, and
writes them sorted and unique, one a line.
"""
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/dict/words"
words = set()
with open(src, encoding="utf-8", errors="replace") as f:
    for line in f:
        w = line.strip()
        if len(w) >= 4 and w.isascii() and w.isalpha() and w.islower():
            words.add(w)
sys.stdout.write("".join(w + "\n" for w in sorted(words)))
