"""Packaging: one import namespace of our own, which a product checkout on PYTHONPATH never shadows."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_installed_under_release_ledger():
    """Each of our folders with an __init__.py is listed in pyproject.toml, so an install has it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = config["package-dir"]
    found = set()
    for top_name, folder in mapped.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "product" in rel.parts:      # the sample product is package data, not our code
                continue
            found.add(".".join([top_name, *rel.parts]) if rel.parts else top_name)
    assert found == listed


def _fake_product(root: Path) -> Path:
    """A folder shaped like a product checkout with its own `workflows` and `engine` packages."""
    for pkg in ("workflows", "engine", "ledger", "commands", "adapters"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("raise ImportError('the product, not release')\n")
    (root / "workflows" / "model_spec.py").write_text("MODEL_SPECS = {}\n")
    return root


def test_cli_runs_with_a_product_checkout_first_on_pythonpath(tmp_path):
    """With a product's `workflows/` first on PYTHONPATH (and as cwd), `release` still imports its own."""
    product = _fake_product(tmp_path / "product")
    env = {**os.environ, "PYTHONPATH": str(product)}
    for args in (["graph"], ["status", "--help"], ["advance", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "release_ledger.commands", *args],
                              cwd=product, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "the product, not release" not in proc.stderr


def test_advance_dry_run_works_in_a_product_checkout_on_pythonpath(tmp_path):
    """`PYTHONPATH=<product> release advance --dry-run` in the product (issue 13): our modules,
    not the product's `workflows`, `engine`, ... packages, and the plan is printed."""
    from release_ledger.sandbox.build import build_sandbox

    product = build_sandbox(tmp_path / "sandbox")
    (product / "workflows" / "__init__.py").write_text("")  # the product's own package
    shadows = ["workflows/config.py", "workflows/services.py", "workflows/steps.py",
               "engine/__init__.py", "ledger/__init__.py", "commands/__init__.py",
               "adapters/__init__.py"]
    for name in shadows:
        (product / name).parent.mkdir(exist_ok=True)
        (product / name).write_text("raise ImportError('the product, not release')\n")
    subprocess.run(["git", "-C", str(product), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(product), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "the product's own packages"], check=True)
    env = {**os.environ, "PYTHONPATH": str(product)}
    for args in (["start", "--increment", "minor"], ["advance", "--dry-run"]):
        proc = subprocess.run([sys.executable, "-m", "release_ledger.commands", *args],
                              cwd=product, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "the product, not release" not in proc.stderr
    assert proc.stdout.startswith("dry run: nothing was written\nplan: collect\n")
