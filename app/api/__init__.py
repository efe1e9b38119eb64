"""The local API: Hearth's engine served to other programs, in OpenAI's and Anthropic's dialects."""
