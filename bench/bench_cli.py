"""How fast the ``hearth`` command answers, beside ``python -c pass`` in the same run.

Each command runs as users run it (the ``hearth`` script next to this Python), in a
fresh process, interleaved round by round so that every command sees the same machine;
the median wall time of --rounds runs is reported. ``chats list`` reads a data home
holding --chats chats of a few messages each, made once before the runs.

Targets (issue #12, on a 2-core machine): ``--version`` and ``--help`` under 0.15 s,
``chats list`` under 0.4 s.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_cli.py [--rounds 15] [--chats 200]
Writes bench/results/cli.json and bench/results/cli.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import __version__  # noqa: E402
from app.hardware import cpu_info  # noqa: E402
from app.store import Store  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGETS = {"hearth --version": 0.15, "hearth --help": 0.15, "hearth chats list": 0.4}


def hearth_command() -> list[str]:
    """The installed ``hearth`` script beside this interpreter, else ``python -m app``."""
    script = Path(sys.executable).with_name("hearth")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "app"]


def fill_home(home: Path, chats: int) -> None:
    store = Store.open(home / "hearth.db")
    try:
        for i in range(chats):
            chat = store.create_chat(f"Chat number {i}")
            parent = None
            for turn in range(3):
                question = store.add_message(chat.id, "user", f"Question {turn}?", parent_id=parent)
                answer = store.add_message(
                    chat.id, "assistant", f"Answer {turn}.", parent_id=question.id
                )
                parent = answer.id
    finally:
        store.close()


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def measure(rounds: int, chats: int) -> dict[str, Any]:
    hearth = hearth_command()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        fill_home(home, chats)
        env = {**os.environ, "HEARTH_HOME": str(home)}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "hearth --version": [*hearth, "--version"],
            "hearth --help": [*hearth, "--help"],
            "hearth chats list": [*hearth, "chats", "list"],
            "hearth settings list": [*hearth, "settings", "list"],
        }
        for argv in commands.values():  # warm the OS file cache once
            run_once(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                times[name].append(run_once(argv, env))
    rows = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        rows[name] = {
            "median_s": round(median, 4),
            "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4),
            "target_s": TARGETS.get(name),
            "meets_target": median < TARGETS[name] if name in TARGETS else None,
        }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "hearth": __version__,
        "python": platform.python_version(),
        "cpu": cpu_info().model,
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rounds": rounds,
        "chats": chats,
        "command": " ".join(hearth),
        "results": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# `hearth` start-up",
        "",
        f"{result['when']}, hearth {result['hearth']}, Python {result['python']}, "
        f"{result['cpu']} ({result['cores']} cores), 1-minute load {result['load_average_1m']} "
        f"at the end. Median of {result['rounds']} fresh processes each, interleaved; "
        f"`chats list` over {result['chats']} chats. Command: `{result['command']}`.",
        "",
        "| command | median (s) | min | max | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in result["results"].items():
        target = f"< {row['target_s']}" if row["target_s"] else ""
        met = {True: "yes", False: "**no**", None: ""}[row["meets_target"]]
        lines.append(
            f"| `{name}` | {row['median_s']:.3f} | {row['min_s']:.3f} | {row['max_s']:.3f} "
            f"| {target} | {met} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--chats", type=int, default=200)
    args = parser.parse_args()
    result = measure(args.rounds, args.chats)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cli.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "cli.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
