"""The packaged app as a user gets it: the bundle and the .deb are built from this
checkout, the .deb is unpacked into a scratch root, and the installed program is run.

Marked ``bundle`` (not run by default: it builds for minutes). Run it with
``pytest -m bundle tests/packaging``; ``HEARTH_BUNDLE_DEB=path.deb`` tests a .deb
already built by packaging/build_bundle.sh instead of building one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from app import __version__

pytestmark = pytest.mark.bundle
ROOT = Path(__file__).resolve().parents[2]
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("HEARTH_BUNDLE_DEB")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [str(ROOT / "packaging" / "build_bundle.sh")],
        env={**os.environ, "HEARTH_DIST": str(out)}, capture_output=True, text=True,
        timeout=5400, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    return Path(built.stdout.split()[-1])


@pytest.fixture(scope="module")
def root(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .deb installed into a scratch root (dpkg-deb unpacks what dpkg would install)."""
    target = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return target


def hearth(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("PYTHONPATH", None)  # the frozen program brings its own Python and modules
    return subprocess.run(
        [str(root / "usr" / "bin" / "hearth"), "--home", str(home), *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip


def test_the_deb_is_hearth_at_this_version_with_its_desktop_files(deb: Path) -> None:
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Package", "Version", "Depends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Package: hearth" in fields and f"Version: {__version__}" in fields
    assert "libgomp1" in fields, "llama.cpp's OpenMP runtime is a dependency"
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for path in (
        "./opt/hearth/hearth",
        "./usr/bin/hearth -> ../../opt/hearth/hearth",
        "./usr/share/applications/hearth.desktop",
        "./usr/share/metainfo/io.github.hearth_desktop.Hearth.metainfo.xml",
        "./usr/share/icons/hicolor/scalable/apps/hearth.svg",
        *(f"./usr/share/icons/hicolor/{n}x{n}/apps/hearth.png" for n in ICON_SIZES),
    ):
        assert path in listing, path


def test_the_bundle_is_lean(root: Path) -> None:
    internal = root / "opt" / "hearth" / "_internal"
    names = {p.name for p in internal.rglob("*")}
    assert not {"tests", "pytest", "hypothesis", "gguf"} & names, "no test tools or data"
    qt = [n for n in names if n.startswith("libQt6")]
    assert any(n.startswith("libQt6Widgets") for n in qt)
    unused = ("Network", "Qml", "Quick", "Pdf", "WebEngine", "Multimedia", "Sql", "Test")
    assert not [n for n in qt if n.startswith(tuple(f"libQt6{m}" for m in unused))], qt


def test_the_installed_program_runs_with_cpu_kernels_chosen_for_this_cpu(
    root: Path, tmp_path: Path
) -> None:
    version = hearth(root, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"hearth {__version__}"
    report = json.loads(hearth(root, tmp_path, "doctor", "--json").stdout)
    llama = report["llama_cpp"]
    assert llama["available"], llama["error"]
    assert len(llama["cpu_variants"]) >= 5, "every CPU variant ships"
    assert llama["cpu_variant"] in llama["cpu_variants"], "one was chosen and loaded"
    text = hearth(root, tmp_path, "doctor").stdout
    assert f"CPU code  {llama['cpu_variant']}, chosen for this CPU" in text


def test_the_installed_app_opens_its_window_loads_a_model_and_answers(
    root: Path, tmp_path: Path, tiny_model: Path
) -> None:
    assert hearth(root, tmp_path, "models", "import", str(tiny_model)).returncode == 0
    checked = hearth(root, tmp_path, "doctor", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "window   opened (offscreen display)" in checked.stdout
    assert "model    tiny-llama loaded" in checked.stdout
    assert "  answer   " in checked.stdout and "closed   cleanly" in checked.stdout


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run for an X display")
def test_the_installed_app_draws_on_a_real_x_display(
    root: Path, tmp_path: Path, tiny_model: Path
) -> None:
    """The xcb platform plugin and the system libraries it needs made it into the bundle."""
    assert hearth(root, tmp_path, "models", "import", str(tiny_model)).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "PYTHONPATH")}
    checked = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24",
         str(root / "usr" / "bin" / "hearth"), "--home", str(tmp_path), "doctor", "--check"],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "window   opened (xcb display)" in checked.stdout


def test_the_installed_program_serves_the_api(root: Path, tmp_path: Path, tiny_model: Path) -> None:
    assert hearth(root, tmp_path, "models", "import", str(tiny_model)).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen(
        [str(root / "usr" / "bin" / "hearth"), "--home", str(tmp_path), "serve", "--port",
         str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        ask = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.post(url, json=ask, timeout=30)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.1)
        assert answer.status_code == 200, answer.text
        assert answer.json()["usage"]["completion_tokens"] == 3
    finally:
        server.terminate()
        server.communicate(timeout=30)
