"""The wheel carries everything: the CLI works from an installed wheel outside the source tree.

Builds the wheel from this checkout, installs it (without dependencies, which the
test environment already has) into a fresh target folder, and runs the console
entry point from a temporary directory with only that folder on the path.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: A wheel built in place writes the checkout's build/ folder, which other builds share (tox's own package
#: build, a second worker): seen failing as "could not delete build/lib/..." and "File exists:
#: build/bdist.../dist-info". So each wheel is built from a private copy of the sources (`build_wheel`), and
#: this module's tests also run on one worker.
pytestmark = pytest.mark.xdist_group("wheel-build")

#: what a wheel is not built from: build output, environments, VCS data, caches, reports
_NOT_SOURCES = ("build", "dist", ".tox", ".ci-venv", ".git", "*.egg-info", "__pycache__", "node_modules",
                "reports", ".hypothesis", ".pytest_cache", ".ci-output.log")


def build_wheel(tmp: Path) -> Path:
    """The wheel of a fresh copy of this checkout's sources, built under `tmp` (nothing shared with other
    builds), without build isolation: setuptools comes from the test environment."""
    import shutil

    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCES), symlinks=True)
    wheels = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(source)], check=True, cwd=tmp)
    return next(wheels.glob("ehds_conformance-*.whl"))


def test_every_package_is_listed_in_pyproject() -> None:
    """`packages` is explicit in pyproject.toml: a new subpackage must be added there."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "conformance").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheel = build_wheel(tmp_path_factory.mktemp("build"))
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True)
    return target


def _run(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    code = "import sys; from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_wheel_imports_from_the_install_not_the_source(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONSAFEPATH": "1"}
    out = subprocess.run([sys.executable, "-c", "import conformance.resources as r, conformance; "
                          "print(conformance.__file__); print(r.profiles_dir()); print(r.testcases_dir())"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    for path in out:
        assert Path(path).resolve().is_relative_to(installed.resolve()), f"{path} is not from the installed wheel"


def test_installed_cli_lists_profiles(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, tmp_path, "profiles", "--format", "json")
    assert result.returncode == 0, result.stderr
    ids = {p["id"] for p in json.loads(result.stdout)} if result.stdout.strip().startswith("[") else set()
    if not ids:
        data = json.loads(result.stdout)
        ids = {p["id"] for p in data.get("profiles", [])}
    assert {"ehds-core", "ehds-patient-summary", "fr-sesali"} <= ids


def test_installed_cli_runs_a_certification(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, tmp_path, "run", "--report-dir", "out", "--run-id", "wheel")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = tmp_path / "out" / "wheel"
    for name in ("report.json", "report.html", "junit.xml"):
        assert (folder / name).is_file(), f"{name} missing from {sorted(p.name for p in folder.iterdir())}"
    report = json.loads((folder / "report.json").read_text())
    assert report["profile"]["id"] == "ehds-core"


def test_no_source_tree_on_the_path_of_the_checks(installed: Path) -> None:
    """The shipped checks must not import anything from tests/ or the repository."""
    for path in (installed / "conformance" / "_testcases").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("tests"), f"{path.name} imports {node.module}"


UNRELATED_TEST = '''
from hypothesis import given, strategies as st

CALLS = []


@given(st.integers())
def test_counts_examples(x):
    CALLS.append(x)


def test_ran_the_default_hundred_examples():
    assert len(CALLS) == 100, len(CALLS)
'''


def test_installed_wheel_leaves_an_unrelated_pytest_session_alone(tmp_path: Path) -> None:
    """Installing the package changes no other pytest session (the plugin is opt-in).

    A fresh virtualenv gets the built wheel (its entry points are what pytest would
    auto-load); the dependencies come from this environment through a .pth file. An
    unrelated project's plain hypothesis test then runs its default 100 examples, and
    `pytest --help` in that project shows none of the harness's options."""
    import site
    import sysconfig
    import venv

    wheel = build_wheel(tmp_path)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", purelib, str(wheel)],
                   check=True)
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(purelib) / "zz_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    project = tmp_path / "unrelated"
    project.mkdir()
    (project / "test_unrelated.py").write_text(UNRELATED_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "HYPOTHESIS", "PYTHONPATH"))}
    located = subprocess.run([str(python), "-c", "import conformance; print(conformance.__file__)"],
                             cwd=project, env=env, capture_output=True, text=True, check=True).stdout
    assert located.startswith(purelib), f"the fresh venv imports conformance from {located}"
    run = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 passed" in run.stdout
    helptext = subprocess.run([str(python), "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=project,
                              env=env, capture_output=True, text=True, timeout=300).stdout
    assert "--conformance-" not in helptext and "EHDS conformance" not in helptext
