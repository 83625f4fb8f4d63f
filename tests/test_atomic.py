import os
import stat

import pytest

from collapsekit.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the umask from /proc")
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_new_file_gets_the_umask_permissions_not_mkstemps_0600(tmp_path, mask):
    previous = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "report.md", "# hello\n")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "report.md") == 0o666 & ~mask  # 0o644, 0o640: never mkstemp's 0o600
    assert (tmp_path / "report.md").read_text() == "# hello\n"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_replacing_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    atomic_write_json(path, {"a": 1})
    assert _mode(path) == 0o640
    assert path.read_text() == '{\n  "a": 1\n}\n'


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    atomic_write_bytes(path, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
