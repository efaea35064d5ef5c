"""The store comparison of the reliability suite: equal rows pair up, float rounding does not split them."""

from collections import Counter

from tests.reliability.harness import comparable, compare


def test_rows_rounded_apart_at_the_last_kept_digit_pair_up() -> None:
    a = {"spm.kpi_values": Counter([("rep", "r1", comparable(25.7953776500499)), ("rep", "r2", 1.0)])}
    b = {"spm.kpi_values": Counter([("rep", "r1", comparable(25.7953776500501)), ("rep", "r2", 1.0)])}
    assert a != b
    assert compare(a, b) == (0, 0, {})


def test_a_real_difference_is_reported_with_its_rows() -> None:
    a = {"spm.kpi_values": Counter([("rep", "r1", 25.7953776), ("rep", "r2", None)]), "raw.x": Counter([(1,)])}
    b = {"spm.kpi_values": Counter([("rep", "r1", 25.7953777), ("rep", "r2", 0.0)])}
    lost, extra, differing = compare(a, b)
    assert (lost, extra) == (3, 2)
    assert differing == {
        "raw.x": ([(1,)], []),
        "spm.kpi_values": (
            [("rep", "r1", 25.7953776), ("rep", "r2", None)],
            [("rep", "r1", 25.7953777), ("rep", "r2", 0.0)],
        ),
    }
