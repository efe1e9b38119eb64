"""The frozen app's entry point: what the `hearth` command does, in a PyInstaller bundle."""

import multiprocessing
import sys

# Document indexing runs in spawned worker processes: a frozen program must let
# multiprocessing take over when it is started as one of them.
multiprocessing.freeze_support()

from app.cli.main import main  # noqa: E402

sys.exit(main())
