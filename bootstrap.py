"""Set up a local virtual environment for this project, using only the standard library.

Run with the Python you have (3.11 or newer):

    python3 bootstrap.py            # .venv with the provisioner installed
    python3 bootstrap.py --test     # the same, plus what the test suite needs

It works on a bare Debian Python, whose ``venv`` lacks ``ensurepip`` unless the
python3-venv package is installed: then the environment is made without pip and pip
is installed into it from its wheel on PyPI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYPI_JSON = os.environ.get("PROVISIONER_PYPI_JSON", "https://pypi.org/pypi/{name}/json")


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def has_pip(python: Path) -> bool:
    return subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0


def fetch_pip_wheel(into: Path) -> Path:
    """Download the newest pip wheel from PyPI (no pip needed to do it)."""
    url = PYPI_JSON.format(name="pip")
    with urllib.request.urlopen(url, timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["filename"].endswith(".whl"))
    target = into / wheel["filename"]
    with urllib.request.urlopen(urljoin(url, wheel["url"]), timeout=120) as response:
        target.write_bytes(response.read())
    return target


def ensure_venv() -> Path:
    python = venv_python()
    if not python.exists():
        try:
            import ensurepip  # noqa: F401  (missing on Debian without python3-venv)

            venv.EnvBuilder(with_pip=True).create(VENV)
        except (ImportError, subprocess.CalledProcessError):
            venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
    if not has_pip(python):
        with tempfile.TemporaryDirectory() as tmp:
            wheel = fetch_pip_wheel(Path(tmp))
            # A pip wheel can run itself: python pip.whl/pip install pip.whl
            subprocess.run([python, str(wheel / "pip"), "install", "--quiet", str(wheel)], check=True)
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        print("The provisioner needs Python 3.11 or newer.", file=sys.stderr)
        return 2
    extra = "[test]" if "--test" in argv else ""
    python = ensure_venv()
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}{extra}"],
        check=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
