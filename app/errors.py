"""The errors Hearth shows to users: one family, each with a plain-words message."""


class HearthError(Exception):
    """A problem the user can understand and act on; its message is shown as is."""


class SettingError(HearthError):
    """A setting name or value was refused."""


class StoreError(HearthError):
    """The database cannot be opened or used (locked, newer version, damaged)."""


class StoreFullError(StoreError):
    """The disk holding the database is full: nothing more can be saved until space is freed."""

    def __init__(self, folder: object) -> None:
        super().__init__(
            f"The disk holding Hearth's data ({folder}) is full, so nothing more can be saved. "
            "Everything saved until now is kept. Free some space, then carry on."
        )


class NotFoundError(HearthError):
    """Something asked for by name or id does not exist."""


class DocumentError(HearthError):
    """One document cannot be read (broken, encrypted, empty, not text, too large);
    the message names the file."""
