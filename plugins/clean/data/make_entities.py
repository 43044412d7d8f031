#!/usr/bin/env python3
"""Build entities.txt: the named character references of HTML5 (those
written with a final semicolon), for decoding "&eacute;" and friends.

    python3 make_entities.py > entities.txt

Each line: the name without "&" and ";", then the hexadecimal code points it
stands for. The table is Python's html.entities.html5, which reproduces the
WHATWG HTML Living Standard's list of named character references.
"""
from html.entities import html5

print("# HTML5 named character references (see make_entities.py)")
for name in sorted(html5):
    if not name.endswith(";"):
        continue
    print(name[:-1], " ".join("%X" % ord(c) for c in html5[name]))
