"""The `hearth` command: one module per command group, each loaded when used."""
