"""`cicasim report`: one self-contained, well-formed HTML file embedding every figure."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import pytest
from conftest import DATA

from cicasim.cli import main

plotting = pytest.importorskip("cicasim.plotting")

TINY = str(DATA / "tiny.toml")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Checker(HTMLParser):
    """Well-formedness: every element closed in order; collects images and outside links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[dict[str, str]] = []
        self.external: list[str] = []
        self.doctype = False
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype |= decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        for key in ("src", "href"):
            v = a.get(key) or ""
            if v and not v.startswith(("data:", "#")):
                self.external.append(v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check(html: str) -> Checker:
    c = Checker()
    c.feed(html)
    c.close()
    assert c.doctype, "no <!DOCTYPE html>"
    assert not c.errors, c.errors[:3]
    assert not c.stack, f"unclosed: {c.stack}"
    assert not c.external, f"external resources: {c.external[:3]}"
    return c


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "res"
    assert main(["run", TINY, "-n", "300", "--seed", "1", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(run_dir):
    assert main(["report", str(run_dir)]) == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    return html, check(html)


def test_report_is_valid_html_and_embeds_every_figure(report, run_dir):
    _html, c = report
    names = plotting.figure_names(plotting.load_results(run_dir))
    assert len(c.images) == len(names) == 5
    for img in c.images:
        assert img["src"].startswith("data:image/png;base64,")
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt")
    for stem in names:
        assert f'id="fig-{stem}"' in _html


def test_report_has_scenario_headline_method_and_provenance(report, run_dir):
    html, c = report
    text = " ".join(c.text)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())["proposals"][0]
    for heading in ("Scenario", "Headline numbers", "Figures", "Method", "Provenance"):
        assert f"<h2>{heading}</h2>" in html
    # the scenario summary, with names rather than codes
    assert "3 members, 1 observer;" in text and "Gamma" in text and "A deeper deal" in text
    # the headline numbers, with their interval
    p = f"{summary['p_consensus']:.3f} ({summary['ci_low']:.3f}–{summary['ci_high']:.3f})"
    assert p in text
    assert "Wilson" in text
    # provenance: seed, input hash, versions, commit
    assert manifest["inputs"]["tiny.toml"]["sha256"] in text
    assert f"mesa {manifest['versions']['mesa']}" in text
    assert str(manifest["git_commit"] or "unknown") in text
    assert "seed 1" in text


def test_report_out_option(run_dir, tmp_path, capsys):
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    check(out.read_text(encoding="utf-8"))


def test_report_of_a_compare_run(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", TINY, "--enlarge", "-n", "100", "--seed", "2", "-j", "1",
                 "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    c = check((out / "report.html").read_text(encoding="utf-8"))
    assert len(c.images) == 1
    text = " ".join(c.text)
    assert "ΔP = P(B) − P(A)" in text and "paired" in text


@pytest.mark.parametrize("case", ["missing", "foreign", "other-kind"])
def test_report_bad_directory_is_a_one_line_error(case, tmp_path, capsys):
    d = tmp_path / "d"
    if case != "missing":
        d.mkdir()
        if case == "foreign":
            (d / "data.csv").write_text("a,b\n")
        else:
            (d / "manifest.json").write_text(json.dumps({"cicasim_results": "power"}))
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cicasim: error: ") and err.count("\n") == 1
    assert not (d / "report.html").exists()


def test_report_out_must_be_html(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.txt")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "r.txt").exists()
