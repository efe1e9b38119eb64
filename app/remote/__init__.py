"""Models on other machines: OpenAI-compatible servers (llama.cpp's ``llama-server``,
vLLM, Ollama, another Hearth's ``hearth serve``) used like models in the library."""
