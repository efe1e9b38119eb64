"""Chats as conversations: the runner that answers, titles, presets, export, rendering."""
