from collapsekit.cli.common import format_table, format_value


def test_short_lists_are_shown_whole():
    assert format_value([0, 1250, 3]) == "0 1,250 3"
    assert format_value(list(range(25))) == " ".join(str(v) for v in range(25))  # a grid25 histogram


def test_long_lists_are_summarised_by_min_median_and_max():
    counts = [26] * 997 + [0, 51, 7]  # 1000 mode counts of stacked digits
    assert format_value(counts) == "1,000 values: min 0, median 26, max 51"
    assert format_value([1.5, 2.5] * 20) == "40 values: min 1.5, median 2, max 2.5"  # even count
    assert format_table([("mode_counts", counts)]) == "  mode_counts  1,000 values: min 0, median 26, max 51"


def test_numbers_keep_their_formats():
    assert format_value(12345) == "12,345"
    assert format_value(0.123456) == "0.1235"
    assert format_value(float("nan")) == "n/a"
    assert format_value(True) == "True"
