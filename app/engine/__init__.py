"""llama.cpp behind one engine: loading, generation events, chat formats, GGUF reading."""
