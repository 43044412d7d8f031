#!/bin/sh
# The held-out GUM measure of docs/entities.md: a model trained like the
# default one (retrain.sh's options) without every fifth GUM document (22 of
# 108: documents 0, 5, 10...), scored on those documents
#   1. alone (docproc-train --test: no rules, no recall bias), and
#   2. through the whole stage (docproc, rules and linking included): the
#      documents' CoNLL tokens joined by spaces, scored by
#      ../shared/eval/score.py.
# Usage: plugins/entities/heldout-gum.sh BUILD_DIR     (e.g. build)
# Needs python3. Writes nothing outside a temporary folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
data=${NER_TRAIN:-$here/../../../shared/ner-train}
score=${SCORE_PY:-$here/../../../shared/eval/score.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# every fifth document of gum.conll held out, the rest kept for training
awk -v held="$tmp/held.conll" -v train="$tmp/train.conll" '
  BEGIN { d = -1 }
  /^-DOCSTART-/ { d++ }
  { print > ((d % 5 == 0) ? held : train) }' "$data/gum.conll"

gaz="--gazetteer $here/data/gazetteer.tsv --gazetteer $here/data/wordclass.tsv"
# shellcheck disable=SC2086
"$build/plugins/entities/docproc-train" -q \
  --train "$tmp/train.conll" "$data/sec-filings.conll" "$data/btc.conll" \
          "$data/wnut17.conll" "$data/re3d.conll" "$tmp/train.conll" \
  $gaz --domains --epochs 6 --bits 18 --seed "${SEED:-1}" --runs 5 -o "$tmp/held.model"
echo "model alone:"
# shellcheck disable=SC2086
"$build/plugins/entities/docproc-train" --test "$tmp/held.conll" -m "$tmp/held.model" $gaz

# gold JSON lines (text = tokens joined by spaces, sentences by new lines)
python3 - "$tmp/held.conll" > "$tmp/held.jsonl" <<'EOF'
import json, sys
docs, sent = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("-DOCSTART-"):
        docs.append([])
    elif not line.strip():
        if sent:
            docs[-1].append(sent)
        sent = []
    else:
        f = line.split()
        sent.append((f[0], f[-1]))
if sent:
    docs[-1].append(sent)
for k, d in enumerate(docs):
    text, ents = "", []
    for si, s in enumerate(d):
        text += "\n" if si else ""
        cur = None
        for ti, (w, tag) in enumerate(s):
            text += " " if ti else ""
            a = len(text)
            text += w
            if tag.startswith("I-") and cur and cur[2] == tag[2:]:
                cur[1] = len(text)
                continue
            if cur:
                ents.append(cur)
            cur = [a, len(text), tag[2:]] if tag != "O" else None
        if cur:
            ents.append(cur)
    print(json.dumps({"id": "gum-%d" % k, "text": text,
                      "entities": [{"start": a, "end": b, "label": l} for a, b, l in ents]}))
EOF
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(json.dumps({"id": d["id"], "text": d["text"]}))' "$tmp/held.jsonl" |
  "$build/daemon/docproc" --jsonl --stages segment,entities \
    --set "entities.model=$tmp/held.model" > "$tmp/pred.jsonl"
echo "whole stage:"
python3 "$score" entities "$tmp/held.jsonl" "$tmp/pred.jsonl"
