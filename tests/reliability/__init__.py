"""Tests that try to break Hearth: kills, disk full, hostile files and requests.

Each guarantee and its figures are in docs/RELIABILITY.md.
"""
