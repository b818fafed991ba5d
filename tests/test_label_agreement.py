"""The labeller-agreement figures of bench.label_agreement, the second-pass record's coverage, and the
blind contact sheets' key (bench.label_sheets)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.label_agreement import TYPES, agreement, cohen_kappa, confusion, label_pairs


def test_kappa_matches_a_hand_computed_two_class_case():
    # 50 items: 20 both yes, 15 both no, 5 + 10 split; observed 0.70, chance 0.5 * 0.6 + 0.5 * 0.4 = 0.50
    table = np.array([[20, 5], [10, 15]])
    assert cohen_kappa(table) == pytest.approx(0.4)


def test_confusion_rows_are_the_first_labeller():
    table = confusion([("photo", "chart"), ("photo", "photo"), ("mixed", "table")])
    assert table[TYPES.index("photo"), TYPES.index("chart")] == 1
    assert table[TYPES.index("chart"), TYPES.index("photo")] == 0
    assert table[TYPES.index("mixed"), TYPES.index("table")] == 1
    assert table.sum() == 3


def test_scored_subset_drops_only_first_mixed_rows():
    pairs = [("photo", "photo"), ("mixed", "chart"), ("chart", "mixed"), ("chart", "diagram")]
    out = agreement(pairs)
    assert out["all.n"] == 4 and out["scored.n"] == 3 and out["both_typed.n"] == 2
    assert out["scored.agreement"] == pytest.approx(1 / 3)
    assert out["both_typed.agreement"] == pytest.approx(0.5)


def test_every_labelled_row_has_a_valid_second_label():
    pairs = label_pairs()  # raises KeyError if a row of the four CSVs has no second label
    assert len(pairs) > 500
    assert {second for _, second in pairs} <= set(TYPES)


def test_blind_sheet_rows_carry_no_label_and_a_fixed_shuffle():
    from bench.label_sheets import KEY_FIELDS, shuffled_rows

    rows = shuffled_rows()
    assert all(set(r) == set(KEY_FIELDS) for r in rows)  # never the first label
    assert [r["index"] for r in rows] == list(range(len(rows)))
    assert [r["path"] for r in rows] == [r["path"] for r in shuffled_rows()]
    assert [r["path"] for r in rows] != [r["path"] for r in shuffled_rows(seed=1)]
