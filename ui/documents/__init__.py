"""Documents in a chat: the panel, drops, indexing progress."""
