#!/usr/bin/env node
/* Builds wordclass.tsv (word classes for the entities tagger) from Debian's
 * wordnet-base (WordNet 3.0). Usage:
 *
 *   node build-wordclass.js > wordclass.tsv
 *
 * Output: one "word<TAB>noun.CLASS" line per single-word, lower-case noun
 * lemma of /usr/share/wordnet/index.noun, CLASS being the lexicographer file
 * (WordNet's coarse semantic class: noun.group, noun.location,
 * noun.person, noun.artifact, ...) of its most frequent sense (the first
 * one listed). Why: the tagger sees "the band X", "X Records", "the town
 * of X" only for the words its training data has; the class carries what
 * it learns from "band" to "orchestra", "ensemble" and "choir". Sorted,
 * deterministic for the same package version. Licence: data/SOURCES.md. */
'use strict';
const fs = require('fs');
const dir = '/usr/share/wordnet/';
const lex = ['noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact', 'noun.attribute',
  'noun.body', 'noun.cognition', 'noun.communication', 'noun.event', 'noun.feeling',
  'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object',
  'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process',
  'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance',
  'noun.time'];
// lexicographer file number of each synset (data.noun: "offset lexfile ...")
const data = fs.readFileSync(dir + 'data.noun', 'latin1');
const fileOf = new Map();
for (const line of data.split('\n')) {
  if (line === '' || line[0] === ' ') continue;
  const f = line.split(' ', 2);
  fileOf.set(f[0], parseInt(f[1], 10));
}
const out = [];
for (const line of fs.readFileSync(dir + 'index.noun', 'latin1').split('\n')) {
  if (line === '' || line[0] === ' ') continue;
  const f = line.split(' ');
  const word = f[0];
  if (!/^[a-z][a-z-]*[a-z]$/.test(word)) continue; // one plain word
  const nptr = parseInt(f[3], 10);
  const first = f[4 + nptr + 2]; // first synset offset = most frequent sense
  const n = fileOf.get(first);
  if (n === undefined || n < 3 || n - 3 >= lex.length) continue;
  out.push(word + '\t' + lex[n - 3]);
}
out.sort();
process.stdout.write('# Word classes from WordNet 3.0 (Debian wordnet-base), made by\n' +
  '# build-wordclass.js; see SOURCES.md for the licence.\n' + out.join('\n') + '\n');
