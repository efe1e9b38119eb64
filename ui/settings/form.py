"""A form built from the settings declarations (app/settings.py): one declaration, one field.

Each field checks what the user types with ``Setting.parse`` and shows the refusal
right under itself. The settings dialog shows whole groups; the chat settings panel
reuses it for per-chat overrides, where an empty field means "use the default".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import SettingError
from app.settings import SETTINGS, Setting, SettingValue
from ui.widgets.combo import ChevronCombo

HelpMode = Literal["inline", "tooltip"]


def select_settings(
    names: Iterable[str] | None = None, groups: Iterable[str] | None = None
) -> tuple[Setting, ...]:
    """Declarations in declaration order, kept when their name or group was asked for
    (everything when neither is given)."""
    wanted_names = set(names) if names is not None else None
    wanted_groups = set(groups) if groups is not None else None
    if wanted_names is None and wanted_groups is None:
        return SETTINGS
    return tuple(
        s
        for s in SETTINGS
        if (wanted_names is not None and s.name in wanted_names)
        or (wanted_groups is not None and s.group in wanted_groups)
    )


def display_value(value: SettingValue) -> str:
    """A value as the user would type it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def field_message(setting: Setting, error: SettingError) -> str:
    """The refusal in words that make sense next to the field (its name is already there)."""
    text = str(error)
    prefix = f"{setting.name} "
    if not text.startswith(prefix):
        return text
    rest = re.sub(r" \(got .*\)$", "", text[len(prefix) :])
    return rest[:1].upper() + rest[1:] + "."


class _Field:
    """One setting's editor. ``raw()`` is what goes to ``Setting.parse``; None means empty."""

    def __init__(self, setting: Setting, optional: bool) -> None:
        self.setting = setting
        self.optional = optional
        self.widget: QWidget = QWidget()
        self.focus_widget: QWidget = self.widget

    def raw(self) -> object | None:
        raise NotImplementedError

    def show_value(self, value: SettingValue | None) -> None:
        raise NotImplementedError

    def set_default_hint(self, value: SettingValue) -> None:
        """In optional mode: show what the empty field stands for."""

    def on_change(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError

    def set_invalid(self, invalid: bool) -> None:
        widget = self.focus_widget
        if bool(widget.property("invalid")) == invalid:
            return
        widget.setProperty("invalid", invalid)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class _TextField(_Field):
    """int, float, str and path settings: a line edit (plus "Browse…" for folders)."""

    def __init__(self, setting: Setting, optional: bool) -> None:
        super().__init__(setting, optional)
        self.edit = QLineEdit()
        self.edit.setObjectName("settingEdit")
        self.edit.setClearButtonEnabled(optional)
        if setting.kind in ("int", "float"):
            self.edit.setMaximumWidth(180 if not optional else 16_777_215)
        if not optional:
            self.edit.setPlaceholderText(setting.describe().capitalize())
        self.focus_widget = self.edit
        if setting.kind == "path":
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(6)
            layout.addWidget(self.edit, 1)
            self.browse = QPushButton("Browse…")
            self.browse.setObjectName("browseButton")
            self.browse.clicked.connect(self._browse)
            layout.addWidget(self.browse)
            self.widget = row
        else:
            self.widget = self.edit

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self.widget, f"Choose the {self.setting.label.lower()}", self.edit.text()
        )
        if chosen:
            self.edit.setText(chosen)

    def raw(self) -> object | None:
        text = self.edit.text()
        if self.optional and not text.strip():
            return None
        return text

    def show_value(self, value: SettingValue | None) -> None:
        self.edit.setText("" if value is None else display_value(value))

    def set_default_hint(self, value: SettingValue) -> None:
        self.edit.setPlaceholderText(f"Default: {display_value(value)}")

    def on_change(self, callback: Callable[[], None]) -> None:
        self.edit.textChanged.connect(lambda _text: callback())


class _BoolField(_Field):
    """A check box; in optional mode a third, partly checked state means "use the default"."""

    def __init__(self, setting: Setting, optional: bool) -> None:
        super().__init__(setting, optional)
        self.box = QCheckBox()
        self.box.setObjectName("settingCheck")
        self.box.setTristate(optional)
        if optional:
            self.box.setCheckState(Qt.CheckState.PartiallyChecked)
        self.widget = self.focus_widget = self.box

    def raw(self) -> object | None:
        state = self.box.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            return None
        return state == Qt.CheckState.Checked

    def show_value(self, value: SettingValue | None) -> None:
        if value is None:
            state = Qt.CheckState.PartiallyChecked if self.optional else Qt.CheckState.Unchecked
        else:
            state = Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
        self.box.setCheckState(state)

    def set_default_hint(self, value: SettingValue) -> None:
        self.box.setText(f"Default: {display_value(value)}")

    def on_change(self, callback: Callable[[], None]) -> None:
        self.box.checkStateChanged.connect(lambda _state: callback())


class _ChoiceField(_Field):
    """A drop-down of the declared choices; in optional mode the first entry is the default."""

    def __init__(self, setting: Setting, optional: bool) -> None:
        super().__init__(setting, optional)
        self.combo = ChevronCombo()
        self.combo.setObjectName("settingChoice")
        self.combo.setMinimumWidth(180)
        if not optional:
            self.combo.setMaximumWidth(280)
        if optional:
            self.combo.addItem("Use default", None)
        for choice in setting.choices:
            self.combo.addItem(choice.capitalize(), choice)
        self.widget = self.focus_widget = self.combo

    def raw(self) -> object | None:
        data = self.combo.currentData()
        return None if data is None else str(data)

    def show_value(self, value: SettingValue | None) -> None:
        index = self.combo.findData(value)
        if index < 0 and value is not None:
            # Not one of the choices (e.g. from an old preset): show it, let parse refuse it.
            self.combo.addItem(str(value), str(value))
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(max(index, 0))

    def set_default_hint(self, value: SettingValue) -> None:
        self.combo.setItemText(0, f"Use default ({display_value(value).capitalize()})")

    def on_change(self, callback: Callable[[], None]) -> None:
        self.combo.currentIndexChanged.connect(lambda _index: callback())


def _make_field(setting: Setting, optional: bool) -> _Field:
    if setting.kind == "bool":
        return _BoolField(setting, optional)
    if setting.kind == "choice":
        return _ChoiceField(setting, optional)
    return _TextField(setting, optional)


class SettingsForm(QWidget):
    """Fields for the chosen settings, each checked as the user types.

    ``optional``: an empty field is valid and left out of ``values()`` (per-chat
    overrides); ``defaults`` then become the fields' placeholders.
    ``help_mode``: "inline" shows each setting's help as small text under the
    field, "tooltip" keeps the form compact. ``labels_above``: each label over its field,
    for narrow panels, so neither is cut.
    """

    edited = Signal()
    validityChanged = Signal(bool)

    def __init__(
        self,
        *,
        names: Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        optional: bool = False,
        defaults: Mapping[str, SettingValue] | None = None,
        help_mode: HelpMode = "inline",
        labels_above: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsForm")
        self.settings = select_settings(names, groups)
        self.optional = optional
        self._fields: dict[str, _Field] = {}
        self._error_labels: dict[str, QLabel] = {}
        self._errors: dict[str, str] = {}
        self._values: dict[str, SettingValue] = {}
        self._valid = True

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(18)
        layout.setVerticalSpacing(16 if help_mode == "inline" else 8)
        layout.setColumnStretch(1, 1)

        for setting in self.settings:
            field = _make_field(setting, optional)
            self._fields[setting.name] = field
            label = QLabel(setting.label)
            label.setObjectName("fieldLabel")
            label.setBuddy(field.focus_widget)
            label.setWordWrap(True)
            field.focus_widget.setAccessibleName(setting.label)
            field.focus_widget.setAccessibleDescription(setting.help)

            cell = QWidget()
            cell.setObjectName("fieldCell")
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(4)
            column.addWidget(field.widget)
            error = QLabel()
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            error.hide()
            self._error_labels[setting.name] = error
            column.addWidget(error)
            if help_mode == "inline":
                help_label = QLabel(setting.help)
                help_label.setObjectName("fieldHelp")
                help_label.setWordWrap(True)
                column.addWidget(help_label)
            else:
                label.setToolTip(setting.help)
                field.focus_widget.setToolTip(setting.help)
            row = layout.rowCount()
            if labels_above:
                layout.addWidget(label, row, 0, 1, 2)
                layout.addWidget(cell, row + 1, 0, 1, 2)
            else:
                layout.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
                layout.addWidget(cell, row, 1)
            field.on_change(functools.partial(self._field_changed, setting.name))

        if defaults is not None:
            self.set_defaults(defaults)
        for name in self._fields:
            self._check(name)
        self._valid = not self._errors

    # ------------------------------------------------------------------ reading
    def values(self) -> dict[str, SettingValue]:
        """Parsed values of the valid, non-empty fields, in declaration order."""
        return dict(self._values)

    def errors(self) -> dict[str, str]:
        """Field name → why its text is refused."""
        return dict(self._errors)

    def is_valid(self) -> bool:
        return not self._errors

    def setting(self, name: str) -> Setting:
        return self._fields[name].setting

    def editor(self, name: str) -> QWidget:
        """The widget the user types into or clicks for ``name``."""
        return self._fields[name].focus_widget

    def error_label(self, name: str) -> QLabel:
        return self._error_labels[name]

    # ------------------------------------------------------------------ writing
    def set_values(self, values: Mapping[str, object]) -> None:
        """Show these values (names this form does not hold are ignored)."""
        for name, value in values.items():
            field = self._fields.get(name)
            if field is None:
                continue
            if value is None or isinstance(value, bool | int | float | str):
                field.show_value(value)
            else:
                field.show_value(str(value))

    def clear(self) -> None:
        """Empty every field (in optional mode: back to "use the default")."""
        for field in self._fields.values():
            field.show_value(None)

    def set_defaults(self, defaults: Mapping[str, SettingValue]) -> None:
        """In optional mode, what an empty field stands for."""
        if not self.optional:
            return
        for name, value in defaults.items():
            if name in self._fields:
                self._fields[name].set_default_hint(value)

    def focus_first_error(self) -> None:
        for name in self._errors:
            self._fields[name].focus_widget.setFocus()
            return

    # ---------------------------------------------------------------- checking
    def _field_changed(self, name: str) -> None:
        self._check(name)
        valid = not self._errors
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
        self.edited.emit()

    def _check(self, name: str) -> None:
        field = self._fields[name]
        raw = field.raw()
        self._values.pop(name, None)
        self._errors.pop(name, None)
        message = ""
        if raw is not None:
            try:
                parsed = field.setting.parse(raw)
            except SettingError as exc:
                message = field_message(field.setting, exc)
            else:
                self._values[name] = parsed
        if message:
            self._errors[name] = message
        # Keep declaration order in both dicts.
        self._values = {n: self._values[n] for n in self._fields if n in self._values}
        self._errors = {n: self._errors[n] for n in self._fields if n in self._errors}
        label = self._error_labels[name]
        label.setText(message)
        label.setVisible(bool(message))
        field.set_invalid(bool(message))
