"""Whether the names in an English translation of a Japanese sentence come from that sentence.

A name is founded when the original writes it in Latin letters (OpenAI), writes the country it
names (米国 for "the United States"), or holds a proper noun or katakana word whose reading,
romanized, spells it closely enough (バージニア州アッシュバーン for "Virginia" and "Ashburn",
大森健吾 for "Kengo Omori"). The small model, translating a sentence, sometimes writes a name the
sentence does not hold ("Los Angeles, California" for ローズタウン工場): a fluent wrong quote.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .chunking import count_tokens
from .lexical import name_readings
from .rules import TRANSLITERATION_DISTANCE, WHOLE_READING
from .text import nfkc

# English names of countries and regions, with the forms a Japanese article writes them in.
EXONYMS = {
    ("japan", "japanese"): ("日本",),
    ("united states", "us", "u.s", "america", "american", "americans"): ("米国", "アメリカ", "米"),
    ("china", "chinese"): ("中国",),
    ("korea", "south korea", "korean"): ("韓国",),
    ("taiwan", "taiwanese"): ("台湾",),
    ("united kingdom", "uk", "britain", "british"): ("英国", "イギリス", "英"),
    ("germany", "german"): ("ドイツ", "独"),
    ("france", "french"): ("フランス", "仏"),
    ("europe", "european", "european union", "eu"): ("欧州", "ヨーロッパ", "欧"),
    ("india", "indian"): ("インド",),
    ("netherlands", "dutch"): ("オランダ",),
    ("switzerland", "swiss"): ("スイス",),
    ("australia", "australian"): ("オーストラリア", "豪州", "豪"),
    ("asia", "asian"): ("アジア",),
    ("middle east",): ("中東",),
}
_EXONYM_NAMES = frozenset(n for names in EXONYMS for n in names)
# Every spelling of those countries and regions, in either language (lower-cased).
EXONYM_FORMS = _EXONYM_NAMES | frozenset(f for forms in EXONYMS.values() for f in forms)
# Capitalized words that name no one: titles, kinds of organisation or place, months and days,
# and the small words inside a name ("Ministry of Finance").
GENERIC = frozenset("""
the of and a an for in on at to by with from
president vice chairman chairwoman chair chief executive officer ceo cfo coo cto director manager
minister prime governor mayor secretary spokesperson mr mrs ms dr inc corp corporation co ltd company
group holdings prefecture city state province county ward
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday i
""".split())
# A word founds a name of several words only when it is this long or a code: "Los" spells part of ローズ.
MIN_FOUNDING_LETTERS = 4

_PHRASE = re.compile(r"[A-Z][\w'’.&-]*(?:\s+(?:(?:of|and|the|de|von|van)\s+)?[A-Z][\w'’.&-]*)*")
_WORD = re.compile(r"[^\W_]+")

# A katakana reading, kana by kana; the small vowels and ャュョ change the kana before them.
_KANA = dict(zip(
    "アイウエオカキクケコガギグゲゴサシスセソザジズゼゾタチツテトダヂヅデドナニヌネノハヒフヘホバビブベボ"
    "パピプペポマミムメモヤユヨラリルレロワヲンヴ",
    "a i u e o ka ki ku ke ko ga gi gu ge go sa shi su se so za ji zu ze zo ta chi tsu te to da ji zu de do "
    "na ni nu ne no ha hi fu he ho ba bi bu be bo pa pi pu pe po ma mi mu me mo ya yu yo ra ri ru re ro "
    "wa o n vu".split()))
_SMALL_VOWELS = dict(zip("ァィゥェォ", "aiueo"))
_SMALL_Y = dict(zip("ャュョ", "auo"))


def romanized(reading: str) -> str:
    """A katakana reading in Latin letters (Hepburn, with ティ as ti and シェ as she)."""
    out: list[str] = []
    for kana in reading:
        if kana in _KANA:
            out.append(_KANA[kana])
        elif out and kana in _SMALL_VOWELS:
            stem = "w" if out[-1] == "u" else out[-1][:-1]
            out[-1] = stem + _SMALL_VOWELS[kana]
        elif out and kana in _SMALL_Y:
            stem = out[-1][:-1]
            out[-1] = stem + ("" if stem in ("sh", "ch", "j") else "y") + _SMALL_Y[kana]
    text = "".join(out)
    return re.sub(r"n(?=[bpm])", "m", text)  # ン before b, p, m sounds m: トランプ, Trump


def spelling_key(text: str) -> str:
    """Both spellings brought to one: no long vowels or doubled letters, sh and ch as s and c,
    y as i and v as b, as the katakana of a foreign name writes them."""
    text = text.replace("ou", "o").replace("ei", "e").replace("y", "i").replace("v", "b")
    text = re.sub(r"(.)\1+", r"\1", text)
    return text.replace("sh", "s").replace("ch", "c").replace("ts", "s")


def english_key(word: str) -> str:
    """An English spelling in the key of :func:`spelling_key`: silent r and final e dropped, l as r,
    c and g as they sound before e and i."""
    s = re.sub(r"[^a-z]", "", nfkc(word).lower().translate(str.maketrans("āēīōūâêîôû", "aeiouaeiou")))
    s = re.sub(r"(?<=[aeiou])r(?![aeiou])", "", s)  # Ashburn: アッシュバーン
    for a, b in (("ew", "yu"), ("ph", "f"), ("th", "s"), ("ck", "k"), ("x", "ks"), ("q", "k"),
                 ("l", "r"), ("w", "u"), ("ee", "i"), ("oo", "u")):
        s = s.replace(a, b)
    s = re.sub(r"c(?![eiyh])", "k", re.sub(r"c(?=[eiy])", "s", s))
    s = re.sub(r"g(?=[ei])", "j", s)
    s = re.sub(r"(?<=[^aeiou])e$", "", s)  # Apple: アップル
    return spelling_key(s)


_VOWELS = frozenset("aeiou")
# Consonants that katakana and English spellings trade for each other (マツダ Mazda, フアン Huang).
_NEAR = {frozenset(p) for p in ("sz", "td", "kg", "pb", "fh", "bf")}


def _cost(letter: str) -> float:
    return 0.5 if letter in _VOWELS or letter == "h" else 1.0


def distance(name: str, reading: str) -> float:
    """The cheapest edit of ``name`` into a part of ``reading`` (both keys), per unit of the
    name: a consonant costs 1, a vowel or a near consonant (s for z) 0.5, and a vowel that the
    katakana adds 0.25 (katakana puts a vowel after each consonant: Boston, ボストン)."""
    if not name:
        return 1.0
    prev = [0.0] * (len(reading) + 1)
    for a in name:
        cur = [prev[0] + _cost(a)]
        for j, b in enumerate(reading, 1):
            same = 0.0 if a == b else 0.5 if (a in _VOWELS and b in _VOWELS) or {a, b} in _NEAR \
                else max(_cost(a), _cost(b))
            cur.append(min(prev[j - 1] + same, prev[j] + _cost(a),
                           cur[j - 1] + (0.25 if b in _VOWELS else _cost(b))))
        prev = cur
    return min(prev) / sum(_cost(a) for a in name)


def unfounded_names(translation: str, original: str, question: str = "") -> list[str]:
    """The names (capitalized phrases) of the English ``translation`` that the Japanese
    ``original`` does not hold (nor the ``question``). A phrase is founded when one of its
    words is: "Minato Battery" for ミナト電池, where Battery translates 電池.

    A single capitalized word that starts a sentence is taken for an ordinary word when its
    lower-case form is one cl100k token (" existing", " furthermore"); names mostly are not
    (" sony", " hayama" are two), though the commonest are (" microsoft")."""
    translation = nfkc(translation)
    source = nfkc(f"{original} {question}").lower()
    readings = [spelling_key(romanized(r)) for r in name_readings(original)]
    unfounded = []
    for m in _PHRASE.finditer(translation):
        before = translation[:m.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?\"“"
        for phrase in re.split(r"['’]s\b\s*", m.group(0).rstrip(".")):  # Minato Battery's Masato Hayama
            words = [w for w in _WORD.findall(phrase)
                     if w.lower() not in GENERIC and len(w) > 1 and not w[0].islower()]  # not "generated" of AI-generated
            if not words:
                continue
            if (starts_sentence and len(words) == 1 and count_tokens(f" {words[0].lower()}") == 1
                    and words[0].lower() not in _EXONYM_NAMES):
                continue  # an ordinary word starting a sentence
            founding = [w for w in words if len(words) == 1 or len(w) >= MIN_FOUNDING_LETTERS or _is_code(w)]
            if not (_exonym(phrase, source) or any(_founded(w, source, readings) for w in founding)):
                unfounded.append(phrase)
            starts_sentence = False
    return unfounded


def written_in(name: str, text: str, every: bool = False) -> bool:
    """Whether ``text`` writes the Latin-script ``name`` ("Soranote", "Satya Nadella"), in Latin
    letters or as the reading of one of its proper nouns or katakana words (ソラノート, ナデラ):
    one word of a name of several is enough (ナデラ氏), or with ``every`` each word. Unlike
    :func:`unfounded_names`, which checks a translation against its own sentence, a word must
    spell a whole reading (:data:`~chatbot.rules.WHOLE_READING`), not a part of one (Sora is
    not in ソラリンク): ``text`` may be a whole passage, with many readings."""
    source = nfkc(text).lower()
    words = [w for w in _WORD.findall(nfkc(name)) if w.lower() not in GENERIC and len(w) > 1]
    founding = [w for w in words if len(words) == 1 or len(w) >= MIN_FOUNDING_LETTERS or _is_code(w)]
    low, high = WHOLE_READING
    found = (_founded(w, source, []) or any(low <= len(r) / max(len(english_key(w)), 1) <= high
                                            and distance(english_key(w), r) <= TRANSLITERATION_DISTANCE
                                            for r in _readings(text)) for w in founding)
    return all(found) if every and founding else any(found)


@lru_cache(maxsize=4096)
def _readings(text: str) -> list[str]:
    return [spelling_key(romanized(r)) for r in name_readings(text, parts=True)]


def _is_code(word: str) -> bool:
    return any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2  # GB200, AI, OpenAI


def _exonym(phrase: str, source: str) -> bool:
    lowered = phrase.lower()
    return any(re.search(rf"\b{re.escape(name)}\b", lowered) and any(f in source for f in forms)
               for names, forms in EXONYMS.items() for name in names)


def _founded(word: str, source: str, readings: list[str]) -> bool:
    lowered = word.lower()
    if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", source)
           for w in {lowered, re.sub(r"(?<=[a-z])s$", "", lowered)}):  # GPUs: GPU
        return True
    key = english_key(word)
    return any(distance(key, r) <= TRANSLITERATION_DISTANCE for r in readings)
