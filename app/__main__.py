"""`python -m app` does what the `hearth` command does."""

from app.cli.main import main

raise SystemExit(main())
