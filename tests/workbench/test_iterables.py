"""The iterable helpers: the same answers as the plain Python they stand in for."""

import random

import pytest

from workbench.iterables import AscendingIds, batched, sorted_distinct


def test_batched_reads_lists_of_the_size_with_a_shorter_last_one():
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []


def test_sorted_distinct_equals_sorted_set_when_everything_fits_in_one_run():
    texts = ["b", "a", "c", "a"]
    assert list(sorted_distinct(texts, run=10)) == ["a", "b", "c"]


def test_sorted_distinct_merges_runs_spilled_to_disk_into_the_same_order():
    # Duplicates across runs, texts a line-based file could split (newlines, quotes), non-ASCII
    # and case that sorts by code point: the merge must give exactly sorted(set(texts)).
    alphabet = ["a", "B", "é", "\n", '"', ".", "z", "Ж"]
    generator = random.Random(7)
    texts = ["".join(generator.choices(alphabet, k=generator.randint(0, 4))) for _ in range(2000)]
    assert len(set(texts)) > 50  # several runs of 50
    assert list(sorted_distinct(texts, run=50)) == sorted(set(texts))


def test_ascending_ids_read_back_what_was_appended_without_repeats():
    generator = random.Random(11)
    ids, value = [], 0
    for _ in range(5000):  # neighbours, and gaps wider than one and several varint bytes
        value += generator.choice([0, 1, 1, 2, 200, 70_000, 3_000_000_000])
        ids.append(value)
    packed = AscendingIds()
    for pk in ids:
        packed.append(pk)
    assert list(packed) == sorted(set(ids))
    assert list(AscendingIds()) == []


def test_ascending_ids_refuse_an_id_smaller_than_the_last():
    packed = AscendingIds()
    packed.append(5)
    with pytest.raises(ValueError, match="ascending"):
        packed.append(4)
