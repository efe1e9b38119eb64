"""The settings dialog: one page per settings group, built from the declarations, and the
controller that saves what the user confirmed through the store (which validates again)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import HearthError
from app.settings import SETTINGS, SettingValue, declaration
from app.store import Store
from ui.settings.form import SettingsForm
from ui.widgets.scroll import vertical_scroll


class SettingsController(QObject):
    """Reads and writes the settings for the dialog; widgets never touch the store."""

    settingsChanged = Signal(dict)  # name → new value, only what changed
    failed = Signal(str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store

    def values(self) -> dict[str, SettingValue]:
        """Every setting's effective value."""
        return self._store.all_settings()

    def save(self, values: Mapping[str, object]) -> bool:
        """Store the values that changed, all in one transaction: a refusal, or the app
        dying midway, stores none of them.

        A value equal to the declared default removes the stored one, so the
        settings table keeps only what the user set apart from the defaults.
        """
        current = self.values()
        try:
            parsed = {name: declaration(name).parse(value) for name, value in values.items()}
            changed = {name: value for name, value in parsed.items() if current[name] != value}
            self._store.save_settings(changed)  # one transaction: all of them or none
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        if changed:
            self.settingsChanged.emit(changed)
        return True


def _groups() -> list[str]:
    seen: list[str] = []
    for setting in SETTINGS:
        if setting.group not in seen:
            seen.append(setting.group)
    return seen


class SettingsDialog(QDialog):
    """Settings grouped into pages (Performance, Sampling, Models, Appearance).

    OK and Apply stay disabled while any field is refused; the refusal is shown
    next to the field and named in the footer. ``settingsChanged`` carries what
    was saved (e.g. ``{"theme": "dark"}``: the window re-applies the theme).
    """

    settingsChanged = Signal(dict)

    def __init__(
        self,
        controller: SettingsController,
        parent: QWidget | None = None,
        *,
        extra_pages: Sequence[tuple[str, QWidget]] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setModal(True)
        self.resize(760, 560)
        self.setMinimumSize(600, 420)
        self._controller = controller
        controller.settingsChanged.connect(self.settingsChanged.emit)
        controller.failed.connect(self._show_failure)

        self.nav = QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(180)
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pages = QStackedWidget()
        self.pages.setObjectName("settingsPages")
        self.forms: dict[str, SettingsForm] = {}
        current = controller.values()
        for group in _groups():
            form = SettingsForm(groups=[group])
            form.set_values(current)
            form.edited.connect(self._update_state)
            self.forms[group] = form
            self.nav.addItem(group)
            self.pages.addWidget(self._page(group, form))
        for title, widget in extra_pages:  # pages that save at once (e.g. remote servers)
            self.nav.addItem(title)
            self.pages.addWidget(self._page(title, widget))
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.nav)
        body.addWidget(self.pages, 1)

        self.reset_button = QPushButton("Restore defaults")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Every setting back to its default (saved with OK or Apply)")
        self.reset_button.clicked.connect(self.restore_defaults)
        self.status_label = QLabel()
        self.status_label.setObjectName("settingsStatus")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.ok_button = QPushButton("OK")
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._ok)

        footer = QFrame()
        footer.setObjectName("dialogFooter")
        buttons = QHBoxLayout(footer)
        buttons.setContentsMargins(20, 12, 20, 12)
        buttons.setSpacing(8)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.ok_button)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addLayout(body, 1)
        outer.addWidget(footer)
        self._saved = current
        self._update_state()

    def _page(self, group: str, form: QWidget) -> QWidget:
        content = QWidget()
        content.setObjectName("settingsPage")
        column = QVBoxLayout(content)
        column.setContentsMargins(28, 24, 28, 24)
        column.setSpacing(18)
        title = QLabel(group)
        title.setObjectName("settingsPageTitle")
        column.addWidget(title)
        column.addWidget(form)
        column.addStretch(1)
        return vertical_scroll(content, "settingsScroll")

    # ------------------------------------------------------------------ state
    def values(self) -> dict[str, SettingValue]:
        out: dict[str, SettingValue] = {}
        for form in self.forms.values():
            out.update(form.values())
        return out

    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for form in self.forms.values():
            out.update(form.errors())
        return out

    def form_for(self, name: str) -> SettingsForm:
        return self.forms[declaration(name).group]

    def show_group(self, group: str) -> None:
        self.nav.setCurrentRow(list(self.forms).index(group))

    def _update_state(self) -> None:
        errors = self.errors()
        changed = any(self._saved.get(name) != value for name, value in self.values().items())
        self.ok_button.setEnabled(not errors)
        self.apply_button.setEnabled(not errors and changed)
        for row, (group, form) in enumerate(self.forms.items()):
            item = self.nav.item(row)
            item.setText(f"{group}  •" if form.errors() else group)
        if errors:
            labels = [declaration(name).label for name in errors]
            noun = "this setting" if len(labels) == 1 else "these settings"
            self._set_status(f"Fix {noun} to save: {', '.join(labels)}", error=True)
        else:
            self._set_status("")

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("error", error)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)

    def _show_failure(self, message: str) -> None:
        self._set_status(message, error=True)

    # ---------------------------------------------------------------- actions
    def restore_defaults(self) -> None:
        """Put every field back to its declared default; nothing is saved until OK or Apply."""
        defaults = {setting.name: setting.default for setting in SETTINGS}
        for form in self.forms.values():
            form.set_values(defaults)
        self._update_state()

    def apply(self) -> bool:
        """Save the fields; refused while any is invalid. True when saved."""
        if self.errors():
            self._update_state()
            return False
        if not self._controller.save(self.values()):
            return False
        self._saved = self._controller.values()
        self._update_state()
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()
