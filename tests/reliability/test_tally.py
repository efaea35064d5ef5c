from __future__ import annotations

import pytest

from tests.reliability.tally import Tally


def test_line_names_every_count() -> None:
    t = Tally()
    t.add("crash_points", 3)
    t.add("faults", 2)
    assert t.line() == "reliability: 3 crash points, 2 faults injected, 0 bad inputs, 0 rows lost, 0 double writes"


def test_unknown_key_is_refused() -> None:
    with pytest.raises(KeyError):
        Tally().add("crashes")
