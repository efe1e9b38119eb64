"""Documents in chats: reading files into passages, searching them, and grounding answers
in them with numbered sources."""
