"""Tests that try to break Hearth: kills, disk full, hostile files and requests (docs/RELIABILITY.md)."""
