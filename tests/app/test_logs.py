"""The rotating log file in the data home."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.logs import setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_log_rotates_instead_of_growing_without_bound(
    tmp_path: Path, restore_logging: None
) -> None:
    log_file = tmp_path / "logs" / "hearth.log"
    setup_logging(log_file)
    setup_logging(log_file)  # calling again must not duplicate lines
    logger = logging.getLogger("hearth.test")
    logger.info("first line")
    for _ in range(5000):  # ~2.8 MB through 1 MB files
        logger.info("x" * 500)
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files[:3] == ["hearth.log", "hearth.log.1", "hearth.log.2"]
    assert all(p.stat().st_size <= 1_100_000 for p in log_file.parent.iterdir())
    logger.warning("last line")
    assert log_file.read_text().count("last line") == 1


def test_debug_detail_only_when_verbose(tmp_path: Path, restore_logging: None) -> None:
    log_file = tmp_path / "hearth.log"
    setup_logging(log_file)
    logging.getLogger("hearth.test").debug("fine detail")
    assert "fine detail" not in log_file.read_text()
    setup_logging(log_file, verbose=True)
    logging.getLogger("hearth.test").debug("fine detail")
    assert "fine detail" in log_file.read_text()


def test_a_log_that_cannot_be_written_stays_quiet(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk (/dev/full answers every write with ENOSPC) costs log lines, never a
    "Logging error" traceback on the user's terminal."""
    setup_logging(Path("/dev/full"))
    logging.getLogger("hearth.test").error("this line cannot be written")
    assert capsys.readouterr().err == ""
