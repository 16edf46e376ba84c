from __future__ import annotations

import os
from pathlib import Path

import pytest

from watcher.sim.globus.paths import PathError, Plan, local_path, plan_item


@pytest.mark.parametrize("globus_path", ["/a/b", "/~/a/b", "~/a/b", "a/b", "/a/./c/../b"])
def test_paths_and_home_name_the_same_file(tmp_path: Path, globus_path: str) -> None:
    assert local_path(tmp_path, globus_path) == tmp_path / "a" / "b"


@pytest.mark.parametrize("globus_path", ["/", "~", "/~/", ""])
def test_root_and_home_are_the_endpoint_root(tmp_path: Path, globus_path: str) -> None:
    assert local_path(tmp_path, globus_path) == tmp_path


@pytest.mark.parametrize("globus_path",
                         ["/../etc/passwd", "/~/../../etc/passwd", "a/../../etc/passwd"])
def test_paths_cannot_leave_the_endpoint(tmp_path: Path, globus_path: str) -> None:
    assert local_path(tmp_path, globus_path) == tmp_path / "etc" / "passwd"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "src/d/sub").mkdir(parents=True)
    (tmp_path / "src/d/sub/x.bin").write_bytes(b"12345")
    (tmp_path / "src/d/y.txt").write_text("y")
    (tmp_path / "src/d/empty").mkdir()
    return tmp_path


def test_recursive_items_expand_to_files_and_directories(tree: Path) -> None:
    plan = Plan()
    plan_item(tree / "src/d", tree / "dst/out", None, None, False, plan)
    assert [(Path(f.dst).relative_to(tree), f.size) for f in plan.files] == [
        (Path("dst/out/sub/x.bin"), 5), (Path("dst/out/y.txt"), 1)]
    assert {p.relative_to(tree) for p in plan.directories} == {
        Path("dst/out"), Path("dst/out/sub"), Path("dst/out/empty")}


@pytest.mark.parametrize(("source", "recursive", "code"), [
    ("src/missing", None, "FILE_NOT_FOUND"),
    ("src/d", False, "IS_A_DIRECTORY"),
    ("src/d/y.txt", True, "NOT_A_DIRECTORY"),
])
def test_bad_items(tree: Path, source: str, recursive: bool | None, code: str) -> None:
    with pytest.raises(PathError) as err:
        plan_item(tree / source, tree / "dst/z", recursive, None, False, Plan())
    assert err.value.code == code


@pytest.mark.parametrize(("level", "dst_content", "dst_age", "skipped"), [
    (0, b"other", 0, True),      # exists
    (1, b"other!", 0, False),    # size differs
    (1, b"abcde", 0, True),      # same size
    (2, b"12345", -100, False),  # destination older than source
    (2, b"xx", +100, True),      # destination newer
    (3, b"12346", 0, False),     # checksum differs
    (3, b"12345", 0, True),
])
def test_sync_levels_skip_files_already_there(tree: Path, level: int, dst_content: bytes,
                                              dst_age: int, skipped: bool) -> None:
    src = tree / "src/d/sub/x.bin"
    dst = tree / "dst.bin"
    dst.write_bytes(dst_content)
    mtime = src.stat().st_mtime + dst_age
    os.utime(dst, (mtime, mtime))
    plan = Plan()
    plan_item(src, dst, False, level, False, plan)
    assert (plan.skipped, len(plan.files)) == ((1, 0) if skipped else (0, 1))
