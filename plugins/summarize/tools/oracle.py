#!/usr/bin/env python3
"""Headroom of extractive summarisation on an eval set: the oracle.

    python3 plugins/summarize/tools/oracle.py SET.jsonl [-k 3] [--show] [--groups]

Run from the project root after a build. Runs build/daemon/docproc (clean,
segment, entities, summarize with summarize.sentences=K) on the set, and for
each document picks greedily the K sentences of docproc's own segmentation
that give the best ROUGE-2 F1 against the reference (the oracle: an upper
bound for any extractive selection over this segmentation, not reachable).
Prints ROUGE-2 F1 of the oracle, of our summary and of Lead-K, on the whole
set and on the odd and even lines. --show prints, per document, the sentences
the oracle (O), ours (U) and Lead (L) took; --groups averages per group,
the group being the second '_'-separated part of the id (GUM's genre).
Scored with ../shared/eval/score.py (rouge-score's tokenizer, no stemming).
"""
import argparse
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.join("..", "shared", "eval"))
import score  # noqa: E402


def run(path, k, docproc):
    gold = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    lines = "".join(json.dumps({"id": g["id"], "text": g["text"]}) + "\n" for g in gold)
    cmd = [docproc, "--set", f"summarize.sentences={k}", "--jsonl",
           "--stages", "clean,segment,entities,summarize"]
    out = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=False).stdout
    preds = {str(p["id"]): p for p in map(json.loads, out.splitlines())}
    return gold, preds


def r2(ref, sents, idx):
    hyp = []
    for i in sorted(idx):
        hyp += sents[i]
    return score.rouge_n(ref, hyp, 2)


def oracle(ref, sents, k):
    chosen, best = [], 0.0
    for _ in range(min(k, len(sents))):
        cand = max((r2(ref, sents, chosen + [i]), i)
                   for i in range(len(sents)) if i not in chosen)
        chosen.append(cand[1])
        best = cand[0]
    return best, sorted(chosen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("-k", type=int, default=3)
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--groups", action="store_true")
    ap.add_argument("--docproc", default=os.path.join("build", "daemon", "docproc"))
    a = ap.parse_args()
    gold, preds = run(a.set, a.k, a.docproc)
    tot = Counter()
    grp = defaultdict(Counter)
    for n, g in enumerate(gold):
        p = preds.get(str(g["id"]))
        if p is None:
            continue
        text = p["text"]
        ss = [text[s["start"]:s["end"]] for s in p["sentences"]]
        toks = [score.rouge_tokens(s) for s in ss]
        ref = score.rouge_tokens(g["summary"])
        ov, oi = oracle(ref, toks, a.k)
        ours = p["summary"]["sentences"]
        lead = list(range(min(a.k, len(ss))))
        vals = {"oracle": ov, "ours": r2(ref, toks, ours), "lead": r2(ref, toks, lead)}
        half = "odd" if n % 2 == 0 else "even"
        parts = str(g["id"]).split("_")
        gname = parts[1] if len(parts) > 2 else "-"
        for key, v in vals.items():
            tot[key] += v
            tot[key + "_" + half] += v
            grp[gname][key] += v
        tot["n"] += 1
        tot["n_" + half] += 1
        grp[gname]["n"] += 1
        if a.show:
            print("=====", g["id"], len(ss), "oracle", oi, round(ov, 3), "ours", ours,
                  round(vals["ours"], 3), "lead", round(vals["lead"], 3))
            print("REF:", g["summary"])
            for i in sorted(set(oi) | set(ours) | set(lead)):
                tag = ("O" if i in oi else "-") + ("U" if i in ours else "-") + ("L" if i in lead else "-")
                print(tag, i, len(toks[i]), ss[i][:200].replace("\n", " | "))
    if a.groups:
        for gname in sorted(grp):
            c = grp[gname]
            print(f"{gname:14} n={c['n']:3}  oracle {c['oracle'] / c['n']:.3f}  "
                  f"ours {c['ours'] / c['n']:.3f}  lead {c['lead'] / c['n']:.3f}")
    for key in ("oracle", "ours", "lead"):
        print(f"{key:6} R-2 {tot[key] / max(1, tot['n']):.3f}  "
              f"odd {tot[key + '_odd'] / max(1, tot['n_odd']):.3f}  "
              f"even {tot[key + '_even'] / max(1, tot['n_even']):.3f}")


if __name__ == "__main__":
    main()
