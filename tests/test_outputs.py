import os
from pathlib import Path

import pytest

from cheaptalk.data.errors import InputError
from cheaptalk.outputs import REPORT_MARKER, atomic_folder, check_folder, check_output, write_atomic


def test_check_output_refuses_folder_missing_parent_and_existing(tmp_path: Path):
    with pytest.raises(InputError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(InputError, match="output folder does not exist"):
        check_output(tmp_path / "missing" / "out.json")
    (tmp_path / "out.json").write_text("mine")
    with pytest.raises(InputError, match="exists; pass --force"):
        check_output(tmp_path / "out.json")
    assert check_output(tmp_path / "out.json", force=True) == tmp_path / "out.json"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_output_refuses_read_only_folder(tmp_path: Path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_output(ro / "out.json")
    finally:
        ro.chmod(0o700)


def test_write_atomic_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path):
    target = tmp_path / "out.csv"

    def writer(tmp: Path) -> None:
        tmp.write_text("new")
        target.write_text("the user's")  # another process creates the target meanwhile

    with pytest.raises(InputError, match="appeared while"):
        write_atomic(target, writer)
    assert target.read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_atomic_leaves_nothing_when_the_writer_fails(tmp_path: Path):
    def writer(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "out.csv", writer)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_force_replaces(tmp_path: Path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"new"


def test_check_folder_protects_user_folders(tmp_path: Path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(InputError, match="not a cheaptalk report"):
        check_folder(mine, force=True)
    report = tmp_path / "report"
    report.mkdir()
    (report / REPORT_MARKER).write_text("")
    with pytest.raises(InputError, match="pass --force"):
        check_folder(report)
    assert check_folder(report, force=True) == report
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        check_folder(tmp_path / "file")


def test_atomic_folder_interrupted_leaves_target_untouched(tmp_path: Path):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        (tmp / "a.txt").write_text("first")
    with pytest.raises(KeyboardInterrupt), atomic_folder(target, force=True) as tmp:
        (tmp / "a.txt").write_text("half")
        raise KeyboardInterrupt
    assert (target / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    with atomic_folder(target, force=True) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == [REPORT_MARKER, "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
