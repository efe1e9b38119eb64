"""Hearth's core: everything the app does, without a screen (no Qt widgets here)."""

__version__ = "0.1.0"
