"""Chats as conversations: the runner that answers, a chat's own parameters, presets,
titles, export, rendering."""
