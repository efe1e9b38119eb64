"""One chat's own set-up: system prompt, sampling overrides (empty means the default from
Settings), context length and stop strings, plus presets to save and reuse."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.params import (
    OVERRIDE_SETTINGS,
    overrides_of,
    stop_strings_from_text,
    stop_strings_of,
    stop_strings_to_text,
)
from app.chat.presets import Preset
from app.errors import HearthError
from ui.chat.controller import ChatsController
from ui.settings.form import SettingsForm
from ui.widgets.combo import ChevronCombo
from ui.widgets.scroll import vertical_scroll

STATUS_SECONDS = 4


class ChatSettingsPanel(QFrame):
    """Edits the chat given to ``set_chat``; Save stores it through the controller.

    ``chatSettingsChanged(chat_id)`` after the chat's settings were saved.
    """

    chatSettingsChanged = Signal(int)

    def __init__(self, controller: ChatsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatSettingsPanel")
        self.setMinimumWidth(300)
        self._controller = controller
        self._chat_id: int | None = None
        self._acting = False

        title = QLabel("Chat settings")
        title.setObjectName("panelTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("panelSubtitle")
        self.subtitle.setWordWrap(True)

        # Presets: pick one to fill the fields; save the fields as one.
        self.preset_combo = ChevronCombo()
        self.preset_combo.setObjectName("presetChoice")
        self.preset_combo.setToolTip("Fill the fields from a saved preset (then Save)")
        self.preset_combo.activated.connect(self._preset_picked)
        self.delete_preset_button = QPushButton("Delete")
        self.delete_preset_button.setObjectName("subtleButton")
        self.delete_preset_button.setToolTip("Delete the chosen preset")
        self.delete_preset_button.clicked.connect(self._delete_preset)
        self.preset_name = QLineEdit()
        self.preset_name.setObjectName("presetName")
        self.preset_name.setPlaceholderText("Preset name")
        self.preset_name.textChanged.connect(self._update_buttons)
        self.preset_name.returnPressed.connect(self.save_preset)
        self.save_preset_button = QPushButton("Save as preset")
        self.save_preset_button.clicked.connect(self.save_preset)

        self.system_prompt_edit = QPlainTextEdit()
        self.system_prompt_edit.setObjectName("systemPrompt")
        self.system_prompt_edit.setPlaceholderText("e.g. You are a concise assistant who …")
        self.system_prompt_edit.setTabChangesFocus(True)
        self.system_prompt_edit.setFixedHeight(110)

        self.form = SettingsForm(
            names=OVERRIDE_SETTINGS, optional=True, help_mode="tooltip", labels_above=True
        )
        self.form.validityChanged.connect(self._update_buttons)

        self.stop_edit = QPlainTextEdit()
        self.stop_edit.setObjectName("stopStrings")
        self.stop_edit.setPlaceholderText("One per line, e.g. ###")
        self.stop_edit.setToolTip(
            "The answer ends when one of these appears. One per line; write \\n for a line break."
        )
        self.stop_edit.setTabChangesFocus(True)
        self.stop_edit.setFixedHeight(64)

        self.defaults_button = QPushButton("Use defaults")
        self.defaults_button.setToolTip("Empty every override, so this chat follows Settings")
        self.defaults_button.clicked.connect(self.form.clear)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        self.status_label = QLabel()
        self.status_label.setObjectName("panelStatus")
        self.status_label.setWordWrap(True)
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(STATUS_SECONDS * 1000)
        self._status_timer.timeout.connect(lambda: self._set_status(""))

        content = QWidget()
        content.setObjectName("panelContent")
        column = QVBoxLayout(content)
        column.setContentsMargins(20, 18, 20, 18)
        column.setSpacing(8)
        column.addWidget(title)
        column.addWidget(self.subtitle)
        column.addSpacing(6)
        column.addWidget(_section("Preset"))
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_combo, 1)
        preset_row.addWidget(self.delete_preset_button)
        column.addLayout(preset_row)
        column.addSpacing(6)
        column.addWidget(_section("System prompt"))
        column.addWidget(self.system_prompt_edit)
        column.addSpacing(6)
        column.addWidget(_section("Sampling"))
        column.addWidget(_hint("Empty fields use the defaults from Settings."))
        column.addWidget(self.form)
        column.addSpacing(6)
        column.addWidget(_section("Stop strings"))
        column.addWidget(self.stop_edit)
        column.addWidget(_hint("One per line; write \\n for a line break."))
        column.addSpacing(6)
        column.addWidget(_section("Save as a preset"))
        column.addWidget(self.preset_name)
        save_as = QHBoxLayout()
        save_as.addStretch(1)
        save_as.addWidget(self.save_preset_button)
        column.addLayout(save_as)
        column.addStretch(1)

        scroll = vertical_scroll(content, "panelScroll")

        footer = QFrame()
        footer.setObjectName("panelFooter")
        buttons = QHBoxLayout(footer)
        buttons.setContentsMargins(20, 10, 20, 12)
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.defaults_button)
        buttons.addWidget(self.save_button)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(footer)

        controller.presetsChanged.connect(self._show_presets)
        controller.chatSettingsChanged.connect(self._chat_saved)
        controller.chatTitleChanged.connect(self._chat_titled)
        controller.failed.connect(self._failed)
        self._show_presets(controller.presets())
        self.set_chat(None)

    # ------------------------------------------------------------------ load
    @property
    def chat_id(self) -> int | None:
        return self._chat_id

    def set_chat(self, chat_id: int | None) -> None:
        """Show this chat's settings (None: nothing to edit)."""
        self._chat_id = chat_id
        self.form.set_defaults(self._controller.global_settings())
        self.form.clear()
        self._set_status("")
        if chat_id is None:
            self.subtitle.setText("No chat open")
            self.system_prompt_edit.clear()
            self.stop_edit.clear()
        else:
            try:
                chat = self._controller.chat(chat_id)
            except HearthError as exc:  # deleted meanwhile
                self._chat_id = chat_id = None
                self.subtitle.setText(str(exc))
            else:
                self.subtitle.setText(chat.title)
                self._show(chat.system_prompt, chat.params)
        self.setEnabled(chat_id is not None)
        self._update_buttons()

    def _show(self, system_prompt: str, params: dict[str, object]) -> None:
        self.system_prompt_edit.setPlainText(system_prompt)
        self.form.clear()
        self.form.set_values(overrides_of(params))
        self.stop_edit.setPlainText(stop_strings_to_text(stop_strings_of(params)))

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        """Store the fields in the chat; refused while a field is invalid."""
        if self._chat_id is None or not self.form.is_valid():
            self.form.focus_first_error()
            return False
        chat_id = self._chat_id
        return self._act(
            lambda: self._controller.save_chat_settings(
                chat_id,
                system_prompt=self.system_prompt_edit.toPlainText(),
                overrides=self.form.values(),
                stop=stop_strings_from_text(self.stop_edit.toPlainText()),
            )
        )

    def _chat_saved(self, chat_id: int) -> None:
        if chat_id != self._chat_id:
            return
        self.subtitle.setText(self._controller.chat(chat_id).title)
        self._set_status("Saved")
        self.chatSettingsChanged.emit(chat_id)

    def _chat_titled(self, chat_id: int, title: str) -> None:
        if chat_id == self._chat_id:
            self.subtitle.setText(title)

    # --------------------------------------------------------------- presets
    def presets(self) -> list[str]:
        return [
            str(self.preset_combo.itemData(i))
            for i in range(self.preset_combo.count())
            if self.preset_combo.itemData(i) is not None
        ]

    def apply_preset(self, name: str) -> None:
        """Fill the fields from the preset (the chat changes when Save is pressed)."""
        for preset in self._controller.presets():
            if preset.name == name:
                self._show(preset.system_prompt, preset.params)
                self.preset_name.setText(name)
                self.preset_combo.setCurrentIndex(max(self.preset_combo.findData(name), 0))
                self._set_status(f"Preset “{name}” filled in; Save to keep it")
                return

    def save_preset(self) -> bool:
        """Save the fields as a preset named in the preset name field."""
        name = self.preset_name.text().strip()
        if not name or not self.form.is_valid():
            return False
        saved = self._act(
            lambda: self._controller.save_preset(
                name,
                system_prompt=self.system_prompt_edit.toPlainText(),
                overrides=self.form.values(),
                stop=stop_strings_from_text(self.stop_edit.toPlainText()),
            )
        )
        if saved:
            self.preset_combo.setCurrentIndex(max(self.preset_combo.findData(name), 0))
            self._set_status(f"Preset “{name}” saved")
        return saved

    def _preset_picked(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name is not None:
            self.apply_preset(str(name))
        self._update_buttons()

    def _delete_preset(self) -> None:
        name = self.preset_combo.currentData()
        if name is not None and self._act(lambda: self._controller.delete_preset(str(name))):
            self._set_status(f"Preset “{name}” deleted")

    def _show_presets(self, presets: list[Preset]) -> None:
        chosen = self.preset_combo.currentData()
        self.preset_combo.clear()
        self.preset_combo.addItem("Choose a preset…" if presets else "No presets yet", None)
        for preset in presets:
            self.preset_combo.addItem(preset.name, preset.name)
        self.preset_combo.setCurrentIndex(max(self.preset_combo.findData(chosen), 0))
        self._update_buttons()

    # ---------------------------------------------------------------- status
    def _act(self, call: Callable[[], bool]) -> bool:
        """Run a controller call, showing its failure (if any) here."""
        self._acting = True
        try:
            return bool(call())
        finally:
            self._acting = False

    def _failed(self, message: str) -> None:
        if self._acting:
            self._set_status(message, error=True)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("error", error)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)
        if text and not error:
            self._status_timer.start()

    def _update_buttons(self) -> None:
        valid = self.form.is_valid()
        self.save_button.setEnabled(self._chat_id is not None and valid)
        self.save_preset_button.setEnabled(valid and bool(self.preset_name.text().strip()))
        self.delete_preset_button.setEnabled(self.preset_combo.currentData() is not None)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("panelSection")
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("panelHint")
    label.setWordWrap(True)
    return label
