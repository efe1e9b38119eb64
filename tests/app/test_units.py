from app.units import format_duration


def test_time_left_reads_as_minutes_then_hours() -> None:
    assert format_duration(75) == "1:15"
    assert format_duration(59.9) == "0:59"
    assert format_duration(3725) == "1:02:05"


def test_unknown_time_left_is_empty() -> None:
    assert format_duration(None) == ""
    assert format_duration(-1) == ""
