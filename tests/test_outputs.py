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


def test_an_input_of_the_command_is_never_an_output(tmp_path: Path):
    """Within a command (tracking_inputs) a file it read cannot be written over, even with
    force; outside one nothing is tracked."""
    from cheaptalk.data.files import read_json, tracking_inputs

    params = tmp_path / "params.json"
    params.write_text("{}")
    with tracking_inputs():
        read_json(params, "parameter")
        for force in (False, True):
            with pytest.raises(InputError, match="is an input of this command"):
                check_output(params, force=force)
            with pytest.raises(InputError, match="is an input of this command"):
                write_atomic(tmp_path / "." / "params.json", "{1}", force=force)
        assert check_output(tmp_path / "other.json") == tmp_path / "other.json"
    assert params.read_text() == "{}"
    assert check_output(params, force=True) == params


def test_force_replaces_only_what_cheaptalk_wrote(tmp_path: Path):
    """The marker lists the files cheaptalk wrote; a file the user added (or a data file
    kept there) stops --force from deleting it, while cheaptalk's own files, byte-code
    caches and a report with an older marker (no list) are replaced."""
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        (tmp / "index.html").write_text("<p>one</p>")
        (tmp / "figures").mkdir()
        (tmp / "figures" / "a.png").write_bytes(b"png")
    assert (target / REPORT_MARKER).read_text().splitlines() == [
        "written by cheaptalk", "figures/a.png", "index.html"]
    (target / "index.html").write_text("edited")         # cheaptalk's file, edited: replaced
    (target / "__pycache__").mkdir()
    (target / "__pycache__" / "x.pyc").write_bytes(b"")
    assert check_folder(target, force=True) == target
    (target / "figures" / "mydata.csv").write_text("the user's")
    with pytest.raises(InputError, match=r"holds files cheaptalk did not write "
                                         r"\(figures/mydata.csv\)"):
        check_folder(target, force=True)
    with pytest.raises(InputError, match="did not write"):
        with atomic_folder(target, force=True) as tmp:
            (tmp / "index.html").write_text("<p>two</p>")
    assert (target / "figures" / "mydata.csv").read_text() == "the user's"
    (target / REPORT_MARKER).write_text("written by cheaptalk\n")   # an older report
    assert check_folder(target, force=True) == target


def test_force_keeps_a_users_file_in_an_experiment_project(tmp_path: Path):
    from cheaptalk.experiment import check_project_folder

    target = tmp_path / "project"
    with atomic_folder(target) as tmp:
        (tmp / "settings.py").write_text("SESSION_CONFIGS = []")
    assert check_project_folder(target, force=True) == target
    (target / "my_notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"files cheaptalk did not write \(my_notes.txt\)"):
        check_project_folder(target, force=True)
