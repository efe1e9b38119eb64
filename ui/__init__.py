"""Hearth's desktop UI: PySide6 widgets that show app/ state and forward user intent to it."""
