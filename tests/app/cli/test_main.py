"""The `hearth` command: output, --json, the data home options and error behaviour."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.cli import main as cli

HEARTH = shutil.which("hearth", path=str(Path(sys.executable).parent))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `hearth` command the way a user does."""
    assert HEARTH, "the hearth console script is not installed in this environment"
    return subprocess.run(
        [HEARTH, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_from_the_installed_command() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hearth {__version__}"


def test_python_dash_m_app_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--version"], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == f"hearth {__version__}"


def test_help_lists_the_commands_and_the_home_option() -> None:
    result = run("--help")
    assert result.returncode == 0
    for word in ("models", "settings", "doctor", "--home", "HEARTH_HOME"):
        assert word in result.stdout


def test_home_option_and_environment_choose_the_data_folder(tmp_path: Path) -> None:
    by_option, by_env = tmp_path / "a", tmp_path / "b"
    assert run("--home", str(by_option), "settings", "set", "top_k", "7").returncode == 0
    assert run("settings", "set", "top_k", "9", env={"HEARTH_HOME": str(by_env)}).returncode == 0
    assert (by_option / "hearth.db").exists() and (by_env / "hearth.db").exists()
    assert run("--home", str(by_option), "settings", "get", "top_k").stdout.strip() == "7"
    got = run("settings", "get", "top_k", env={"HEARTH_HOME": str(by_env)})
    assert got.stdout.strip() == "9"
    # --home wins over the environment.
    both = run(
        "--home", str(by_option), "settings", "get", "top_k", env={"HEARTH_HOME": str(by_env)}
    )
    assert both.stdout.strip() == "7"


def test_models_list_is_empty_on_a_new_home(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "list"]) == 0
    assert "No models in the library yet" in capsys.readouterr().out
    assert cli.main(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_models_list_finds_files_in_the_models_folder(
    home: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "models" / "acme").mkdir(parents=True)
    shutil.copy(tiny_model, home / "models" / "acme" / "tiny.gguf")
    assert cli.main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "tiny-llama" in out and "470.2 KB" in out and "F32" in out
    cli.main(["models", "list", "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed] == ["tiny-llama"]
    assert listed[0]["path"] == str(home / "models" / "acme" / "tiny.gguf")


def test_settings_set_validates_and_get_reads_back(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["settings", "set", "theme", "dark"]) == 0
    assert capsys.readouterr().out.strip() == "theme = dark"
    assert cli.main(["settings", "get", "theme", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["value"] == "dark" and record["default"] == "system"
    assert not record["is_default"]
    assert cli.main(["settings", "reset", "theme"]) == 0
    assert cli.main(["settings", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    by_name = {r["name"]: r for r in listing}
    assert by_name["theme"]["value"] == "system"
    assert {
        "threads",
        "gpu_layers",
        "context_length",
        "temperature",
        "models_dir",
        "offline",
    } <= set(by_name)


def test_a_bad_setting_value_is_one_line_on_stderr_and_not_stored(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path), "settings", "set", "temperature", "warm")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "hearth: temperature must be a number from 0 to 5 (got 'warm')\n"
    assert run("--home", str(tmp_path), "settings", "get", "temperature").stdout.strip() == "0.8"


def test_usage_errors_are_one_line_with_a_hint(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path), "settings", "frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "invalid choice: 'frobnicate'" in result.stderr and "--help" in result.stderr


def test_a_corrupt_database_is_reported_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "hearth.db").write_bytes(b"\x00garbage" * 512)
    result = run("--home", str(tmp_path), "models", "list")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("hearth: Cannot open the database")


def test_an_unexpected_failure_is_one_line_and_the_traceback_goes_to_the_log(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(ctx: object, args: object) -> int:
        raise RuntimeError("kaboom")

    import app.cli.doctor

    monkeypatch.setattr(app.cli.doctor, "cmd_doctor", broken)
    assert cli.main(["doctor"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: kaboom" in err and "Traceback" not in err
    log = (home / "logs" / "hearth.log").read_text()
    assert "Traceback" in log and "kaboom" in log


def test_gui_without_a_display_explains_instead_of_crashing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    assert HEARTH
    result = subprocess.run(
        [HEARTH, "--home", str(tmp_path)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 1
    assert "No display found" in result.stderr and "Traceback" not in result.stderr


def test_doctor_reports_what_a_bug_report_needs(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hearth"] == __version__
    assert report["paths"]["database"] == str(home / "hearth.db")
    assert report["paths"]["models"] == str(home / "models")
    assert report["cpu"]["physical_cores"] >= 1
    assert report["memory"]["total_bytes"] > 0
    llama = report["llama_cpp"]
    assert llama["available"], llama["error"]
    assert "CPU" in llama["backends"]
    assert "CPU :" in llama["system_info"]
    assert cli.main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "llama.cpp" in text and str(home) in text and "RAM" in text


def test_verbose_echoes_the_log_to_stderr(tmp_path: Path) -> None:
    result = run("--home", str(tmp_path), "--verbose", "models", "list")
    assert result.returncode == 0
    assert "opened data home" in result.stderr
    assert "opened data home" in (tmp_path / "logs" / "hearth.log").read_text()
    quiet = run("--home", str(tmp_path), "models", "list")
    assert quiet.stderr == ""
