"""The teachability verdict, on rows built by hand (no model)."""

from __future__ import annotations

import math

import pytest

from simbench.teaching.rows import Sensitivity, TeachabilityRow, micro_run

SENSITIVITY = Sensitivity(cases=2, mean_abs_relevant=0.3, mean_abs_unrelated=0.4, relevant_wins=1,
                          stop_shift_relevant=0.1, stop_shift_unrelated=0.05)


def row(frozen=0.0, reachable=True, relevant=(True,) * 8, unrelated=(False,) * 8):
    return TeachabilityRow(
        preference="concise", frozen_adherence=frozen, probes=len(relevant), min_tokens=0,
        reachable=reachable, sensitivity=SENSITIVITY, micro=micro_run(1, relevant, unrelated, 500, 0),
    )


@pytest.mark.parametrize("kwargs, expected", [
    ({"reachable": False}, "unreachable"),
    ({"frozen": 0.9}, "saturated"),
    ({}, "teachable"),  # 8/8 vs 0/8: the paired interval is [1, 1]
    ({"relevant": (True, False) * 4, "unrelated": (False, True) * 4}, "unspecific"),
    ({"relevant": (False,) * 8, "unrelated": (False,) * 8}, "not shown"),
])
def test_verdict(kwargs, expected):
    assert row(**kwargs).verdict == expected


def test_unreachable_wins_over_a_positive_gap_and_saturation():
    assert row(frozen=1.0, reachable=False).verdict == "unreachable"


def test_row_dict_carries_adherences_gap_and_ratio():
    data = row(relevant=(True, True, False, False), unrelated=(False, True, False, False)).to_dict()
    micro = data["micro_run"]
    assert (micro["relevant_adherence"], micro["unrelated_adherence"]) == (0.5, 0.25)
    assert micro["gap"]["gap"] == 0.25 and micro["gap"]["n"] == 4
    assert math.isclose(data["sensitivity"]["ratio"], 0.75)
    assert data["hinges_on_end_of_turn"] is True and data["verdict"] == "unspecific"
