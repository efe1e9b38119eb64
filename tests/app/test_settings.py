"""Settings declarations: parsing and validation of user input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import SettingError
from app.settings import BY_NAME, SETTINGS, declaration, validate


def test_every_default_passes_its_own_validation() -> None:
    for setting in SETTINGS:
        assert setting.parse(setting.default) == setting.default, setting.name


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("threads", "8", 8),
        ("temperature", "0.7", 0.7),
        ("temperature", 1, 1.0),
        ("offline", "yes", True),
        ("offline", "OFF", False),
        ("theme", "dark", "dark"),
        ("models_dir", " ~/llm ", "~/llm"),
        ("seed", "-1", -1),
    ],
)
def test_command_line_strings_are_parsed_to_the_declared_type(
    name: str, raw: object, expected: object
) -> None:
    value = validate(name, raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw", "fragment"),
    [
        ("temperature", "hot", "temperature must be a number from 0 to 5 (got 'hot')"),
        ("temperature", "nan", "a number from 0 to 5"),
        ("temperature", 7.5, "a number from 0 to 5"),
        ("threads", "2.5", "threads must be a whole number from 0 to 512"),
        ("threads", True, "a whole number"),
        ("context_length", 100, "from 256 to"),
        ("offline", "maybe", "offline must be true or false"),
        ("theme", "purple", "theme must be one of system, light, dark"),
        ("models_dir", "  ", "models_dir must be a folder path"),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_rule(
    name: str, raw: object, fragment: str
) -> None:
    with pytest.raises(SettingError) as caught:
        validate(name, raw)
    assert fragment in str(caught.value)


def test_unknown_setting_suggests_the_closest_name() -> None:
    with pytest.raises(SettingError, match=r"did you mean temperature\?"):
        declaration("temprature")


@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_integer_settings_accept_exactly_their_bounds(number: int) -> None:
    setting = BY_NAME["context_length"]
    assert setting.minimum is not None and setting.maximum is not None
    inside = setting.minimum <= number <= setting.maximum
    if inside:
        assert setting.parse(str(number)) == number
    else:
        with pytest.raises(SettingError):
            setting.parse(str(number))


@given(st.text(max_size=20))
def test_any_text_for_a_number_is_either_parsed_or_refused_cleanly(text: str) -> None:
    try:
        value = validate("top_p", text)
    except SettingError as exc:
        assert "top_p must be" in str(exc)
    else:
        assert isinstance(value, float) and 0.0 <= value <= 1.0
