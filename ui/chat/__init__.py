"""The chat screen: sidebar of chats, messages, composer, per-chat settings."""
