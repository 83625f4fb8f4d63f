"""``collapsekit reproductions``: the table and paths on success, one line and exit 2 on bad input."""

import pytest
from click.testing import CliRunner
from conftest import RING

from collapsekit.cli import main


@pytest.fixture(scope="module")
def root(tmp_path_factory, make_runs):
    root = tmp_path_factory.mktemp("cli-runs")
    make_runs(root, "veegan", "vanilla", {}, RING, [1, 1, 2, 1, 1], steps=25_000)
    return root


def test_prints_the_table_and_the_paths_written(root, tmp_path):
    result = CliRunner().invoke(main, ["reproductions", str(root), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["table", "dataset", "method", "metric", "published", "ours",
                                "ours_ci95", "trials", "steps", "verdict"]
    assert any(line.split()[:6] == ["VEEGAN", "Table", "1", "ring8", "GAN", "modes_captured"]
               and line.endswith("reproduced") and "[0.6, 1.8]" in line for line in lines)
    assert "Reproduction report of 5 runs" in result.output
    orderings = lines.index("Published orderings in modes captured:")
    assert any(line.split()[:3] == ["VEEGAN", "Table", "1"] and "Unrolled GAN 7.6 > GAN 1.0" in line
               and line.endswith("no runs yet") for line in lines[orderings:])
    for name in ("reproductions.csv", "orderings.csv", "default_protocol.csv", "report.md", "report.html"):
        assert f"  {tmp_path / 'r' / name}" in lines
        assert (tmp_path / "r" / name).is_file()


def test_a_notes_row_matching_nothing_is_named(root, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("table,dataset,method,metric,note\nVEEGAN Table 1,ring8,GAN,typo,x\n")
    result = CliRunner().invoke(
        main, ["reproductions", str(root), "--out", str(tmp_path / "r"), "--notes", str(notes)]
    )
    assert result.exit_code == 0, result.output
    assert "note matches no row: VEEGAN Table 1, ring8, GAN, typo" in result.output


@pytest.mark.parametrize(
    "case, message",
    [
        ("no runs", "no run found under"),
        ("missing root", "does not exist"),
        ("unreadable notes", "cannot read notes file"),
        ("notes without columns", "lacks the column(s) metric, note"),
        ("notes with bad steps", "line 2: steps 'half' is not a whole number of steps"),
        ("out is a file", "is a file, not a folder"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(root, tmp_path, case, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("not a folder")
    (tmp_path / "bad-notes.csv").write_text("table,dataset,method\na,b,c\n")
    (tmp_path / "bad-steps.csv").write_text("table,dataset,method,metric,steps,note\na,b,c,d,half,e\n")
    arguments = {
        "no runs": [str(tmp_path / "empty"), "--out", str(tmp_path / "o")],
        "missing root": [str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")],
        "unreadable notes": [str(root), "--out", str(tmp_path / "o"),
                             "--notes", str(tmp_path / "absent.csv")],
        "notes without columns": [str(root), "--out", str(tmp_path / "o"),
                                  "--notes", str(tmp_path / "bad-notes.csv")],
        "notes with bad steps": [str(root), "--out", str(tmp_path / "o"),
                                 "--notes", str(tmp_path / "bad-steps.csv")],
        "out is a file": [str(root), "--out", str(tmp_path / "file.txt")],
    }[case]
    result = CliRunner().invoke(main, ["reproductions", *arguments])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing written
