"""Problem lists are capped: the first 200, then one line counting the rest."""

from __future__ import annotations

from workbench.capping import capped, capped_list


def test_a_short_list_is_returned_whole():
    assert capped(["a", "b"]) == ["a", "b"]
    assert capped_list(["a", "b"]) == "a, b"


def test_a_long_list_keeps_the_first_200_and_counts_the_rest():
    problems = [f"problem {n}" for n in range(10_000)]

    listed = capped(problems, noun="problems")

    assert listed[:200] == problems[:200]
    assert listed[200:] == ["… and 9,800 more problems."]


def test_a_joined_list_is_capped_the_same_way():
    assert capped_list(["a", "b", "c", "d"], limit=2) == "a, b, … and 2 more"
