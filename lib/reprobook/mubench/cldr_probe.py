"""The "CLDR-61" aligned probe: weekday and month continuation, and month-category items, from babel's CLDR data.

Every item has one ``item_id`` shared by all languages (like MuBench's ``_id``) and stores its
options as *canonical value ids* (``weekday:3``, ``month:11``), so agreement between languages
compares underlying values, never option letters or positions. No machine translation is involved:
every surface form is CLDR's human-curated stand-alone name.

Tasks. ``weekday`` and ``month``: three consecutive names, continue with the fourth. ``category``:
three months in no cyclic order, continue with the option that is also a month (the other three
options are weekdays), so it is not a cyclic continuation. No option ever repeats a name of its
prompt (a model that copies a prompt name cannot agree with itself through the options), and the
answer's position among the options cycles over the items and languages (balanced positions).

Prompt/option boundary rule (one rule for every language): the prompt is three consecutive names
joined by the locale's CLDR list separator; each option is that separator followed by a candidate
name, so the boundary token is the same in the prompt and in every option.

>>> items = build_probe(["en"], ["weekday"])
>>> item = items[0]
>>> item.prompt, item.answer, len(item.options)
('Monday, Tuesday, Wednesday', 'weekday:3', 4)
>>> item.option_texts[item.options.index(item.answer)]
', Thursday'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["LANGUAGES", "BABEL_CODES", "TASKS", "ProbeItem", "babel_locale", "names", "separator",
           "build_probe", "numeric_month_languages", "SCRIPT_OF"]

#: MuBench's 61 languages, in its published order.
LANGUAGES = tuple("af ar az bg bn ca ceb cs da de el en es et fa fi fr ga gu he hi hr hu id is it ja jv kk km kn "
                  "ko lt lv ml mr ms my nl no pa pl pt ro ru sk sl sq sr sv sw ta te th tl tr uk ur uz vi zh".split())
#: babel's code where it differs from MuBench's.
BABEL_CODES = {"no": "nb", "tl": "fil"}
TASKS = ("weekday", "month", "category")
_CYCLE = {"weekday": 7, "month": 12}
#: items per task (the continuation tasks have one item per starting name)
N_ITEMS = {"weekday": 7, "month": 12, "category": 6}
N_OPTIONS = 4

#: The script of each language's CLDR names (for colouring figures).
SCRIPT_OF = {
    **{code: "Latin" for code in "af az ca ceb cs da de en es et fi fr ga hr hu id is it jv lt lv ms nl no pl pt "
       "ro sk sl sq sv sw tl tr uz vi".split()},
    **{code: "Cyrillic" for code in "bg kk ru sr uk".split()},
    **{code: "Arabic" for code in "ar fa ur".split()},
    **{code: "Indic" for code in "bn gu hi kn ml mr pa ta te".split()},
    "el": "Greek", "he": "Hebrew", "ja": "CJK", "ko": "Hangul", "zh": "CJK", "km": "Khmer", "my": "Myanmar",
    "th": "Thai",
}


@dataclass(frozen=True)
class ProbeItem:
    """One aligned item in one language."""

    item_id: str
    task: str
    lang: str
    prompt: str
    options: tuple[str, ...]  # canonical value ids, in a per-language shuffled order
    option_texts: tuple[str, ...]  # localised continuations, same order as ``options``
    answer: str  # canonical value id of the correct option
    score_group: str  # items of one (task, group) share their scored candidate set


def babel_locale(lang: str):
    """The babel ``Locale`` for a MuBench language code (``no`` → ``nb``, ``tl`` → ``fil``)."""
    from babel import Locale

    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; MuBench's 61 languages are: {' '.join(LANGUAGES)}")
    return Locale.parse(BABEL_CODES.get(lang, lang))


@cache
def names(lang: str, task: str) -> tuple[str, ...]:
    """Stand-alone wide CLDR names, Monday first for weekdays and January first for months.

    >>> names("de", "weekday")[:2]
    ('Montag', 'Dienstag')
    """
    locale = babel_locale(lang)
    if task == "weekday":
        table = locale.days["stand-alone"]["wide"]
        return tuple(str(table[index]) for index in range(7))
    if task == "month":
        table = locale.months["stand-alone"]["wide"]
        return tuple(str(table[index]) for index in range(1, 13))
    raise ValueError(f"unknown task {task!r}; allowed: {', '.join(TASKS)}")


@cache
def separator(lang: str) -> str:
    """The text between two list elements in the locale's CLDR "standard" list pattern.

    >>> separator("en"), separator("zh")
    (', ', '、')
    """
    pattern = babel_locale(lang).list_patterns["standard"]["middle"]
    match = re.fullmatch(r"\{0\}(.*)\{1\}", pattern, flags=re.S)
    if match is None:
        raise ValueError(f"unexpected CLDR list pattern for {lang!r}: {pattern!r}")
    return match.group(1)


def numeric_month_languages(languages=LANGUAGES) -> list[str]:
    """Locales whose month names are numbered (digits or Chinese numerals): month continuation is counting.

    >>> numeric_month_languages(["en", "zh", "ja"])
    ['zh', 'ja']
    """
    numerals = set("0123456789一二三四五六七八九十")
    return [lang for lang in languages if all(set(name) & numerals for name in names(lang, "month"))]


def _items(task: str, seed: int) -> list[tuple[list[tuple[str, int]], tuple[str, int], list[tuple[str, int]]]]:
    """Language-independent items of ``task``: (prompt values, answer value, distractor values), each
    value a (vocabulary, index) pair; no distractor repeats a prompt value."""
    out = []
    for index in range(N_ITEMS[task]):
        rng = np.random.default_rng([seed, index, 1 + TASKS.index(task)])
        if task == "category":
            months = rng.permutation(12)
            prompt, answer = sorted(months[:3].tolist()), int(months[3])
            prompt = [prompt[k] for k in rng.permutation(3)]
            if all((prompt[k + 1] - prompt[k]) % 12 == 1 for k in range(2)):  # never a cyclic run
                prompt = prompt[::-1]
            weekdays = rng.choice(7, size=N_OPTIONS - 1, replace=False).tolist()
            out.append(([("month", v) for v in prompt], ("month", answer), [("weekday", v) for v in weekdays]))
            continue
        cycle = _CYCLE[task]
        prompt = [(index + step) % cycle for step in range(3)]
        answer = (index + 3) % cycle
        free = [value for value in range(cycle) if value not in prompt and value != answer]
        distractors = sorted(rng.choice(free, size=N_OPTIONS - 1, replace=False).tolist())
        out.append(([(task, v) for v in prompt], (task, answer), [(task, v) for v in distractors]))
    return out


def _score_group(task: str, index: int) -> str:
    """Weekday items share one candidate set (all seven names); month and category items are scored alone."""
    return "weekday" if task == "weekday" else f"{task}-{index:02d}"


def _option_order(index: int, lang: str, seed: int) -> list[int]:
    """Positions of [answer, d1, d2, d3]: the answer's position cycles with the item and the language."""
    position = (index + LANGUAGES.index(lang)) % N_OPTIONS
    others = np.random.default_rng([seed, index, LANGUAGES.index(lang)]).permutation(N_OPTIONS - 1) + 1
    order = others.tolist()
    order.insert(position, 0)
    return order


def build_probe(languages=LANGUAGES, tasks=TASKS, *, seed: int = 0) -> list[ProbeItem]:
    """All items of ``tasks`` in ``languages``, the same ids and canonical options in every language.

    Option order differs per language (the answer's position cycles): scoring by log-likelihood does
    not depend on it, and agreement compares canonical values, so the order must change nothing (a
    test checks this).

    >>> len(build_probe(["en", "zh"], ["weekday", "month", "category"]))
    50
    """
    items = []
    for task in tasks:
        if task not in N_ITEMS:
            raise ValueError(f"unknown task {task!r}; allowed: {', '.join(TASKS)}")
        for index, (prompt, answer, distractors) in enumerate(_items(task, seed)):
            values = [answer, *distractors]
            for lang in languages:
                sep = separator(lang)
                for vocabulary in {vocabulary for vocabulary, _ in values}:
                    if len(set(names(lang, vocabulary))) != _CYCLE[vocabulary]:
                        raise ValueError(f"{lang}: CLDR {vocabulary} names are not distinct")
                shuffled = [values[position] for position in _option_order(index, lang, seed)]
                items.append(ProbeItem(
                    item_id=f"{task}-{index:02d}", task=task, lang=lang,
                    prompt=sep.join(names(lang, vocabulary)[value] for vocabulary, value in prompt),
                    options=tuple(f"{vocabulary}:{value}" for vocabulary, value in shuffled),
                    option_texts=tuple(sep + names(lang, vocabulary)[value] for vocabulary, value in shuffled),
                    answer=f"{answer[0]}:{answer[1]}", score_group=_score_group(task, index),
                ))
    return items
