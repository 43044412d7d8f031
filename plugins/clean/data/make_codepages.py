#!/usr/bin/env python3
"""Build codepages.txt: the upper halves (bytes 0x80-0xFF) of the single-byte
encodings that UTF-8 text is commonly mis-decoded with. The clean stage uses
them to re-encode mojibake back to the original bytes.

    python3 make_codepages.py > codepages.txt

Each line: an encoding name, then 128 hexadecimal code points for bytes
0x80..0xFF. The tables come from Python's codecs, which are generated from
the Unicode Consortium's mapping files (Public/MAPPINGS). Bytes an encoding
leaves undefined map to the Latin-1 code point of the same value, as web
browsers do ("sloppy" decoding), so that every byte round-trips.
"""
ENCODINGS = ["windows-1252", "latin-1", "windows-1250", "windows-1251",
             "iso-8859-2", "windows-1257", "mac-roman", "cp437"]

print("# name, then the code points of bytes 0x80..0xFF (see make_codepages.py)")
for enc in ENCODINGS:
    cps = []
    for b in range(0x80, 0x100):
        try:
            c = bytes([b]).decode(enc)
        except UnicodeDecodeError:
            c = chr(b)
        cps.append("%04X" % ord(c))
    print(enc, " ".join(cps))
