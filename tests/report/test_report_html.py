"""The rendered report, read as a person (and a parser) would: HTML, images, tables, markdown, CSV."""

import base64
import io
import json
import re
import sys
from html.parser import HTMLParser

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import reference_models
from collapsekit.cli import main
from collapsekit.report import build_report
from collapsekit.runs import RunDir

HOSTILE_MODEL = "<script>alert(\"x\")</script> & 'q'"
HOSTILE_RUN = "run <b>&\"'"
VOID = {"meta", "img", "br", "hr", "link", "input"}


class Page(HTMLParser):
    """Collects tags (checking that they nest), attributes, text and table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (
            f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        )
        self.open.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory, tiny_config_module):
    root = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        reference_models.train(
            tiny_config_module(seed=seed), root / f"vanilla-seed{seed}", progress=False
        )
    hostile = RunDir.create(
        root / HOSTILE_RUN, {"model": HOSTILE_MODEL, "data": "ring8", "seed": 7}
    )
    metrics = {
        "modes_captured": 3,
        "modes_total": 8,
        "high_quality_frac": 0.5,
        "mode_kl": 0.7,
        "num_samples": 10,
    }
    metrics["mode_counts"] = [2, 2, 1, 0, 0, 0, 0, 0]
    hostile.write_history([{"step": 5, **metrics}])
    hostile.write_samples(
        {"final": np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)}
    )
    hostile.write_summary({"status": "finished", "step": 5, "metrics": metrics, "findings": []})
    out = tmp_path_factory.mktemp("report")
    built = build_report([root], out, title="Ring & <friends>")
    page = Page()
    page.feed(built.paths["html"].read_text(encoding="utf-8"))
    page.close()
    return built, page, root


@pytest.fixture(scope="module")
def tiny_config_module():
    from reference_models import TrainConfig

    def make(**overrides):
        values = dict(
            steps=40,
            eval_every=20,
            eval_samples=300,
            batch_size=64,
            z_dim=16,
            hidden=32,
            device="cpu",
        )
        return TrainConfig(**{**values, **overrides})

    return make


def test_html_parses_and_holds_every_image(report):
    built, page, _ = report
    assert page.open == []  # every element closed, in order
    images = [attributes for tag, attributes in page.tags if tag == "img"]
    assert len(images) == 5  # samples, coverage, equilibrium, timeline, shares for ring8
    for image in images:
        prefix, _, payload = image["src"].partition(",")
        assert prefix == "data:image/png;base64"
        pixels = matplotlib.image.imread(
            io.BytesIO(base64.b64decode(payload, validate=True)), format="png"
        )
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100 and image["alt"]


def test_html_is_self_contained(report):
    _, page, _ = report
    for tag, attributes in page.tags:
        assert tag not in {"script", "link", "iframe", "object"}
        for name in ("src", "href"):
            if name in attributes:
                assert attributes[name].startswith(("data:", "#")), attributes[name]


def test_names_with_markup_are_escaped(report):
    built, page, _ = report
    text = "".join(page.text)
    assert HOSTILE_MODEL in text and HOSTILE_RUN in text and "Ring & <friends>" in text
    html = built.paths["html"].read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<b>&" not in html
    markdown = built.paths["markdown"].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "\\<script\\>alert" in markdown


def test_tables_hold_the_runs_numbers(report):
    built, page, root = report
    finals = [
        json.loads((root / f"vanilla-seed{s}" / "summary.json").read_text())["metrics"]
        for s in (0, 1)
    ]
    d_real = [m["d_real"] for m in finals]
    assert d_real[0] != d_real[1]
    low, high = stats.t.interval(0.95, 1, loc=np.mean(d_real), scale=stats.sem(d_real))
    comparison = pd.read_csv(built.paths["comparison_csv"]).set_index("model")
    assert comparison.loc["vanilla", "runs"] == 2 and comparison.loc["vanilla", "seeds"] == "0 1"
    assert comparison.loc["vanilla", "d_real_mean"] == pytest.approx(np.mean(d_real))
    assert comparison.loc["vanilla", "d_real_ci_low"] == pytest.approx(low)
    assert comparison.loc["vanilla", "d_real_ci_high"] == pytest.approx(high)
    modes = [m["modes_captured"] for m in finals]
    assert comparison.loc["vanilla", "modes_captured_mean"] == pytest.approx(np.mean(modes))
    summary = pd.read_csv(built.paths["summary_csv"]).set_index("run_id")
    for seed, final in enumerate(finals):
        row = summary.loc[f"vanilla-seed{seed}"]
        assert row["high_quality_frac"] == pytest.approx(final["high_quality_frac"])
        assert row["d_real"] == pytest.approx(final["d_real"])
    assert summary.loc[HOSTILE_RUN, "model"] == HOSTILE_MODEL
    # run_dir is relative to the report's folder, so a report moved with its runs still finds them
    folder = built.paths["summary_csv"].parent
    for run_id, run_dir in summary["run_dir"].items():
        assert not run_dir.startswith("/")
        assert (folder / run_dir).resolve() == (root / run_id).resolve()
    header, *rows = page.tables[0]  # the comparison table of ring8
    vanilla = dict(zip(header, next(r for r in rows if r[0] == "vanilla"), strict=True))
    assert vanilla["D(x)"] == f"{np.mean(d_real):.3g} ± {(high - low) / 2:.2g}"
    assert vanilla["seeds"] == "2 (0 1)" and vanilla["status"] == "2 finished"
    hostile = dict(zip(header, next(r for r in rows if r[0] == HOSTILE_MODEL), strict=True))
    assert (
        hostile["modes captured"] == "3.0" and hostile["high quality (%)"] == "50.0"
    )  # one seed: no interval


def test_published_numbers_sit_beside_ours_with_sources(report):
    _, page, _ = report
    published = next(t for t in page.tables if t[0][0] == "source")
    rows = {(r[0], r[1]): dict(zip(published[0], r, strict=True)) for r in published[1:]}
    veegan = rows[("VEEGAN (Srivastava et al. 2017), Table 1", "GAN")]
    assert veegan["modes captured"] == "1" and veegan["high quality (%)"] == "99.3"
    assert rows[("PacGAN (Lin et al. 2018), Table 1", "GAN")]["modes captured"] == "6.3 ± 0.5"
    assert ("collapsekit (this report)", "vanilla") in rows
    text = " ".join("".join(page.text).split())
    assert "Protocols differ" in text
    assert (
        "The plain GAN alone captures 1 mode in VEEGAN (Srivastava et al. 2017), Table 1 "
        "and 6.3 modes in PacGAN (Lin et al. 2018), Table 1." in text
    )


def test_markdown_links_every_image_beside_it(report):
    built, _, _ = report
    markdown = built.paths["markdown"].read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\((images/[^)]+\.png)\)", markdown)
    assert len(links) == 5
    for link in links:
        assert (built.paths["markdown"].parent / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| model | seeds | status | modes captured" in markdown


def test_cli_writes_the_report_and_refuses_missing_sources(report, tmp_path):
    _, _, root = report
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["report", str(root / "vanilla-seed0"), "--out", str(tmp_path / "r"), "--title", "One"],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Report of 1 run on ring8" in result.output
        and str(tmp_path / "r" / "report.html") in result.output
    )
    assert "<title>One</title>" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    missing = runner.invoke(main, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "nowhere does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(main, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "e")])
    assert empty.exit_code == 2 and "no readable run under" in empty.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_run_dirs_are_relative_within_a_tree_and_absolute_across_the_root():
    from pathlib import Path

    from collapsekit.report.render import _relative_to

    assert _relative_to(Path("/work/p/reports/ref/runs/a"), Path("/work/p/reports/ref")) == "runs/a"
    assert _relative_to(Path("/work/p/runs/a"), Path("/work/p/reports/latest")) == "../../runs/a"
    assert _relative_to(Path("/data/runs/a"), Path("/tmp/report")) == "/data/runs/a"
