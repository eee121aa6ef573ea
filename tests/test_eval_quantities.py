"""The eval's own number normalizer (eval/quantities.py): Japanese and English numbers, units
and dates read into comparable values, independently of the product's checks."""

import pytest

from eval.quantities import Quantity, quantities, same_quantity


def values(text: str) -> list[tuple]:
    return [(q.value, q.unit) for q in quantities(text)]


@pytest.mark.parametrize("text, expected", [
    ("380億ドル", [(38e9, "USD")]),
    ("$38 billion", [(38e9, "USD")]),
    ("38B", [(38e9, None)]),
    ("５.８兆円", [(5.8e12, "JPY")]),
    ("2,500億", [(2.5e11, None)]),
    ("250B", [(2.5e11, None)]),
    ("1.4兆ドル", [(1.4e12, "USD")]),
    ("$1.4 trillion", [(1.4e12, "USD")]),
    ("5兆9,000億円", [(5.9e12, "JPY")]),
    ("3億7,500万", [(3.75e8, None)]),
    ("300Bドル", [(3e11, "USD")]),
    ("7年", [(7, "years")]),
    ("7年間", [(7, "years")]),
    ("七年", [(7, "years")]),
    ("seven-year", [(7, "years")]),
    ("2025年", [(2025, "year")]),
    ("in 2025,", [(2025, "year")]),
    ("2025年11月3日", [((2025, 11, 3), "date"), (2025, "year")]),
    ("November 3, 2025", [((2025, 11, 3), "date"), (2025, "year")]),
    ("Nov. 3", [((None, 11, 3), "date")]),
    ("30%", [(30, "%")]),
    ("30 percent", [(30, "%")]),
    ("10万人", [(1e5, "people")]),
    ("100,000 people", [(1e5, "people")]),
    ("１０万人", [(1e5, "people")]),
    ("250GW", [(2.5e11, "W")]),
    ("5〜10年", [(5, "years"), (10, "years")]),
    ("3分の1", [(1 / 3, "fraction")]),
    ("GB200とGB300、GPT-6、Qwen2.5", []),  # codes, not numbers
    ("380億ドルです[1]。", [(38e9, "USD")]),  # the citation marker is no number
])
def test_normalizer_reads_japanese_and_english_numbers(text, expected):
    got = values(text)
    assert len(got) == len(expected), got
    for (v, u), (ev, eu) in zip(got, expected):
        assert u == eu
        assert v == ev if isinstance(ev, tuple) else v == pytest.approx(ev)


@pytest.mark.parametrize("a, b", [
    ("380億ドル", "$38 billion"), ("380億ドル", "38B dollars"), ("2,500億", "250B"), ("1.4兆ドル", "$1.4T"),
    ("7年", "seven years"), ("10万人", "100,000 people"), ("2025年11月3日", "November 3rd, 2025"),
    ("３０％", "30 percent"),
])
def test_normalizer_makes_the_same_amount_comparable(a, b):
    assert all(any(same_quantity(x, y) for y in quantities(b)) for x in quantities(a))


def test_normalizer_keeps_different_things_apart():
    assert not same_quantity(quantities("380億ドル")[0], quantities("380億円")[0])  # currency
    assert not same_quantity(quantities("7年")[0], quantities("70年")[0])
    assert not same_quantity(quantities("7年")[0], Quantity(7.0))  # a bare 7 is no 7年
    assert not same_quantity(quantities("11月3日")[0], quantities("11月4日")[0])
    assert same_quantity(quantities("11月3日")[0], quantities("2025年11月3日")[0])
