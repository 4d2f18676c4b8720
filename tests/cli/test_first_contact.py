"""First contact: the product root is found and checked before anything is written; -v anywhere."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_ledger.commands.main import cli


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under root, with the files' sha256 (what a command may have left)."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                       if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


@pytest.fixture
def product(tmp_path):
    """A product checkout: git, VERSION 0.3.0, a subfolder, and a bare `origin`."""
    repo = tmp_path / "product"
    (repo / "docs" / "deep").mkdir(parents=True)
    git("init", "-q", "--bare", str(tmp_path / "remote.git"))
    git("init", "-q", str(repo))
    git("-C", str(repo), "remote", "add", "origin", str(tmp_path / "remote.git"))
    (repo / "VERSION").write_text("0.3.0\n")
    return repo


def release(*args: str, cwd: Path | None = None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", [["start", "--increment", "minor"], ["advance"]])
def test_a_folder_outside_git_is_refused_and_left_as_it_was(tmp_path, command):
    """A folder with VERSION but no git: exit 1, one sentence and a hint, nothing written."""
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "VERSION").write_text("0.3.0\n")
    before = tree(tmp_path)
    result = release("--repo", str(folder), *command)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error: {folder} is not inside a git work tree"
    assert result.stderr.splitlines()[1].startswith("hint: ")
    assert len(result.stderr.splitlines()) == 2
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", [["start", "--increment", "minor"], ["advance"]])
def test_a_repo_that_does_not_exist_is_refused_and_not_created(tmp_path, command):
    """--repo naming nothing: exit 1 naming it; no folder, no ledger is created."""
    missing = tmp_path / "nowhere" / "product"
    result = release("--repo", str(missing), *command)
    assert result.exit_code == 1
    assert f"error: --repo {missing} does not exist" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_git_work_tree_without_VERSION_is_refused(tmp_path):
    """A git checkout that is not a product (no VERSION at its top) is named, nothing written."""
    other = tmp_path / "other"
    git("init", "-q", str(other))
    before = tree(tmp_path)
    result = release("--repo", str(other), "start", "--increment", "minor")
    assert result.exit_code == 1
    assert f"error: the git work tree {other} has no VERSION file at its top" in result.stderr
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", [["start", "--increment", "minor"], ["advance"],
                                     ["status"], ["history"]])
def test_a_checkout_without_its_remote_is_refused_before_anything_is_written(product, command):
    """No git remote `origin`: exit 1 naming the checkout and the setting; nothing written."""
    git("-C", str(product), "remote", "remove", "origin")
    before = tree(product.parent)
    result = release("--repo", str(product), *command)
    assert result.exit_code == 1
    assert (f"error: the product checkout {product} has no git remote 'origin' "
            "([github] remote)") in result.stderr
    assert "remote add origin URL" in result.stderr
    assert tree(product.parent) == before


def test_the_remote_the_settings_name_is_the_one_checked(product):
    """[github] remote = "upstream": a checkout with only origin is refused naming upstream."""
    (product / "release.toml").write_text('[github]\nremote = "upstream"\n')
    result = release("--repo", str(product), "start", "--increment", "minor")
    assert result.exit_code == 1
    assert "has no git remote 'upstream'" in result.stderr
    assert not (product / "release_logs").exists()


def test_from_a_subfolder_start_and_advance_work_on_the_product_root(product, monkeypatch):
    """Run in product/docs/deep: the ledger is product/release_logs/, none in the subfolder."""
    sub = product / "docs" / "deep"
    result = release("start", "--increment", "minor", cwd=sub, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert (product / "release_logs" / "ledger.sqlite").is_file()
    status = release("--repo", str(sub), "status")
    assert status.exit_code == 0 and "release 0.4.0: started" in status.output
    assert list(sub.iterdir()) == []


def test_a_refused_start_leaves_no_ledger_behind(product):
    """start --version of the current VERSION: exit 1, and no release_logs/ or exclude line."""
    exclude = product / ".git" / "info" / "exclude"
    before = exclude.read_text()
    result = release("--repo", str(product), "start", "--version", "0.3.0")
    assert result.exit_code == 1
    assert "the target version 0.3.0 is the current VERSION" in result.stderr
    assert not (product / "release_logs").exists()
    assert exclude.read_text() == before


def test_a_start_failing_after_the_ledger_was_created_takes_it_back(product):
    """If recording fails once the ledger file exists, the file, its folder and the exclude go."""
    from release_ledger.commands.context import AppContext
    from release_ledger.commands.fresh_ledger import ledger_or_nothing

    exclude = product / ".git" / "info" / "exclude"
    before = exclude.read_text()
    app = AppContext(repo=str(product))
    with pytest.raises(RuntimeError):
        with ledger_or_nothing(app) as ledger:
            assert Path(ledger.path).is_file()
            raise RuntimeError("the append failed")
    assert not (product / "release_logs").exists()
    assert exclude.read_text() == before


@pytest.mark.parametrize("command", [["status"], ["history"], ["replay"], ["verify"],
                                     ["abort", "--reason", "x"], ["rollback", "--dry-run"],
                                     ["advance"], ["collect"]])
def test_an_unknown_settings_key_stops_every_command_that_reads_the_product(product, command):
    """A typo in release.toml is one sentence naming file and key, for every product command."""
    assert release("--repo", str(product), "start", "--version", "0.4.0").exit_code == 0
    (product / "release.toml").write_text("[github]\nremot = 'origin'\n")
    result = release("--repo", str(product), *command)
    assert result.exit_code == 1
    assert f"error: {product / 'release.toml'}: unknown key 'github.remot'" in result.stderr


def test_verbose_after_the_subcommand_is_accepted(product):
    """`release status -v` works like `release -v status`, and says the decisions it made."""
    release("--repo", str(product), "start", "--version", "0.4.0")
    before = release("--repo", str(product), "-v", "status")
    after = release("--repo", str(product), "status", "-v")
    assert before.exit_code == after.exit_code == 0
    assert after.output == before.output
    assert "settings: defaults (no release.toml)" in after.stderr


def test_sql_shows_at_vv_only(product):
    """-v shows decisions, not SQL; -vv adds the SQL statements."""
    release("--repo", str(product), "start", "--version", "0.4.0")
    assert "sql: " not in release("--repo", str(product), "status", "-v").stderr
    assert "sql: SELECT" in release("--repo", str(product), "status", "-vv").stderr


def test_verbose_names_the_product_root_found_from_a_subfolder(product):
    """Under -v, a command run in a subfolder says which checkout it works on."""
    release("--repo", str(product), "start", "--version", "0.4.0")
    result = release("--repo", str(product / "docs"), "status", "-v")
    assert f"product: {product} (the checkout that holds {product / 'docs'})" in result.stderr


def test_commands_that_need_no_product_run_anywhere(tmp_path, monkeypatch):
    """graph and --help work in a folder that is no checkout, and write nothing there."""
    monkeypatch.chdir(tmp_path)
    assert release("graph").exit_code == 0
    assert release("start", "--help").exit_code == 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("setup,args,sentence", [
    (None, ["status"], "no ledger at"),
    (None, ["start", "--version", "4.0"], "--version holds '4.0', which is not a version X.Y.Z"),
    ("[ci]\nmax_runs = 'many'\n", ["start", "--increment", "minor"],
     "key 'ci.max_runs' input should be a valid integer"),
    ("[ci]\nbogus = 1\n", ["status"], "unknown key 'ci.bogus'"),
])
def test_first_contact_errors_end_with_a_hint(product, setup, args, sentence):
    """The errors a newcomer meets first are one sentence, then a `hint:` line saying what to do."""
    if setup:
        (product / "release.toml").write_text(setup)
    result = release("--repo", str(product), *args)
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and sentence in lines[0]
    assert len(lines) == 2 and lines[1].startswith("hint: ")


def test_a_linked_worktree_is_a_checkout_and_keeps_its_ledger_out_of_git(product):
    """In a `git worktree` of the product (.git is a file there), start works and git stays clean."""
    git("-C", str(product), "add", "VERSION")
    git("-C", str(product), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v")
    tree_dir = product.parent / "linked"
    git("-C", str(product), "worktree", "add", "-q", str(tree_dir))
    result = release("--repo", str(tree_dir), "start", "--increment", "minor")
    assert result.exit_code == 0, result.stderr
    status = subprocess.run(["git", "-C", str(tree_dir), "status", "--porcelain"],
                            capture_output=True, text=True).stdout
    assert status == ""


def test_a_reader_that_stops_early_is_not_an_error(product):
    """`release history | head`: when the pipe closes, release stops quietly (exit 141, as git)."""
    import sys

    release("--repo", str(product), "start", "--version", "0.4.0")
    proc = subprocess.Popen([sys.executable, "-m", "release_ledger.commands", "--repo",
                             str(product), "history"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader has gone before the first line
    stderr = proc.stderr.read()
    assert proc.wait() == 141
    assert stderr == ""


def test_ledger_copy_needs_no_product_checkout(tmp_path, monkeypatch):
    """`release ledger copy` works on two ledger files in a folder that is no checkout."""
    from release_ledger.ledger import Ledger, NewEvent

    monkeypatch.chdir(tmp_path)
    source = Ledger.open(tmp_path / "a.sqlite")
    source.append("0.4.0", [NewEvent("E", {"i": 1})])
    source.close()
    result = release("ledger", "copy", "a.sqlite", "b.sqlite")
    assert result.exit_code == 0, result.stderr
    assert Ledger.open(tmp_path / "b.sqlite").count() == 1
