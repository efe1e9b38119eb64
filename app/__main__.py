"""`python -m app` does what the `hearth` command does."""

from app.cli import main

raise SystemExit(main())
