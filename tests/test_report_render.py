"""A report rendered from a hand-made results.csv + example_scores.jsonl: its Markdown, LaTeX and HTML tables
hold the numbers this test recomputes from the CSV on its own; the plots exist and show their labels."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean

import numpy as np
import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
COLUMNS = ["study", "pipeline", "model", "seed", "task", "family", "language", "split", "metric", "value", "chance",
           "zero_shot", "main", "intermediate", "pretraining", "n_examples", "stage_key", "eval_key", "axes"]
LANGUAGES = ["en", "qaa", "qae"]
N = 30  # test examples per language
# (model, intermediate, fraction) -> accuracy shift; the baseline is "none"
SYSTEMS = [("base", "none", None, 0.0), ("base", "squad", 0.5, 0.05), ("base", "squad", 1.0, 0.12),
           ("large", "none", None, 0.10), ("large", "squad", 0.5, 0.12), ("large", "squad", 1.0, 0.16)]
BASE_ACCURACY = {"en": 0.8, "qaa": 0.65, "qae": 0.45}


def write_results(folder: Path, with_axes: bool = True, with_examples: bool = True) -> None:
    """Two models, a baseline and squad at two data fractions, targets xnli (accuracy) and qa (F1 + EM,
    span_qa), three languages, two seeds; a control (random init) for xnli. The baseline is listed once per
    fraction (as a grid lists it), with the same evaluation key."""
    rng = np.random.default_rng(7)
    rows, records = [], []
    for model, intermediate, fraction, shift in SYSTEMS:
        fractions = [0.5, 1.0] if intermediate == "none" else [fraction]
        for seed in (0, 1):
            for task in ("xnli", "qa"):
                for language in LANGUAGES:
                    key = f"{model}-{intermediate}-{fraction}-{task}-{seed}-{language}"
                    p = min(0.98, BASE_ACCURACY[language] + shift + 0.02 * seed)
                    draws = rng.random(N)
                    correct = (draws < p).astype(float)
                    if task == "xnli":
                        metrics = {"accuracy": (correct, np.ones(N))}
                    else:
                        partial = np.clip(correct + rng.random(N) * 0.5, 0, 1)  # token F1 >= EM
                        metrics = {"f1": (partial, np.ones(N)), "exact_match": (correct, np.ones(N))}
                    for metric, (num, den) in metrics.items():
                        value = 100 * num.sum() / den.sum()
                        records.append({"eval_key": key, "stage_key": "s-" + key, "task": task, "language": language,
                                        "split": "test", "metric": metric, "ids": [f"{language}-{i}" for i in range(N)],
                                        "num": num.tolist(), "den": den.tolist()})
                        for shown in fractions:
                            axes = {"intermediate": None if intermediate == "none" else intermediate,
                                    "fraction": shown, "target": task, "model": model}
                            rows.append({
                                "study": "hand", "pipeline": f"{model}/{intermediate}/{shown}/{task}", "model": model,
                                "seed": seed, "task": task, "family": "classification" if task == "xnli" else "span_qa",
                                "language": language, "split": "test", "metric": metric, "value": f"{value:.4f}",
                                "chance": "33.3333" if task == "xnli" else "0.0", "zero_shot": "True",
                                "main": str(metric in ("accuracy", "f1")), "intermediate": intermediate,
                                "pretraining": "mlm", "n_examples": N, "stage_key": "s-" + key, "eval_key": key,
                                "axes": json.dumps(axes) if with_axes else ""})
    for seed in (0, 1):  # the control: random init, xnli only, base model
        for language in LANGUAGES:
            value = 100 * float((rng.random(N) < 0.34).mean())
            rows.append({"study": "hand", "pipeline": "control/xnli", "model": "base", "seed": seed, "task": "xnli",
                         "family": "classification", "language": language, "split": "test", "metric": "accuracy",
                         "value": f"{value:.4f}", "chance": "33.3333", "zero_shot": "True", "main": "True",
                         "intermediate": "none", "pretraining": "none", "n_examples": N,
                         "stage_key": f"c-{seed}", "eval_key": f"c-{seed}-{language}", "axes": "{}"})
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS if with_axes else COLUMNS[:-1], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    if with_examples:
        (folder / "example_scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


# ------------------------------------------------------------------ the numbers, recomputed from the CSV alone


def csv_rows(folder: Path) -> list[dict]:
    with open(folder / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    seen, out = set(), []
    for row in rows:  # the baseline is listed once per fraction: count each evaluation once
        if (row["eval_key"], row["metric"]) not in seen:
            seen.add((row["eval_key"], row["metric"]))
            out.append(row)
    return out


def fraction_of(row: dict) -> float | None:
    return json.loads(row["axes"] or "{}").get("fraction") if row["intermediate"] != "none" else None


def per_seed(rows, model, task, intermediate, fraction, metrics, exclude=(), control=False):
    """{seed: mean over languages of the mean over metrics}."""
    values = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        if (row["model"] == model and row["task"] == task and row["intermediate"] == intermediate
                and (row["pretraining"] == "none") == control and fraction_of(row) == fraction
                and row["metric"] in metrics and row["language"] not in exclude):
            values[row["seed"]][row["language"]][row["metric"]] = float(row["value"])
    return {seed: mean(mean(m.values()) for m in by_language.values()) for seed, by_language in values.items()}


def t_half_width(values):
    from scipy import stats

    s = np.std(values, ddof=1)
    return stats.t.ppf(0.975, len(values) - 1) * s / math.sqrt(len(values))


def expected_cell(rows, model, task, fraction, exclude=()):
    """'mean ± hw (+delta' as the table prints it (significance marks follow)."""
    ours = per_seed(rows, model, task, "squad", fraction, ["accuracy", "f1"], exclude)
    base = per_seed(rows, model, task, "none", None, ["accuracy", "f1"], exclude)
    m, b = mean(ours.values()), mean(base.values())
    return f"{m:.1f} ± {t_half_width(list(ours.values())):.1f} ({m - b:+.1f}"


def expected_average(rows, model, intermediate, fraction):
    """XTREME's aggregation: xnli accuracy; qa (EM + F1) / 2; per seed the mean over tasks; then over seeds."""
    xnli = per_seed(rows, model, "xnli", intermediate, fraction, ["accuracy"])
    qa = per_seed(rows, model, "qa", intermediate, fraction, ["f1", "exact_match"])
    return mean((xnli[s] + qa[s]) / 2 for s in xnli)


def _render(tmp_path_factory, plots: bool):
    from xstilts.reports.results import load_results
    from xstilts.reports.write import write_report

    folder = tmp_path_factory.mktemp("hand")
    write_results(folder / "results")
    paths = write_report(load_results(folder / "results"), folder / "report", title="hand study", n_resamples=200,
                         plots=plots)
    return folder, paths


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return _render(tmp_path_factory, plots=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return _render(tmp_path_factory, plots=True)


def test_tables_hold_the_numbers_recomputed_from_the_csv(tables):
    folder, paths = tables
    rows = csv_rows(folder / "results")
    markdown, latex, page = (paths[k].read_text() for k in ("markdown", "latex", "html"))
    for model in ("base", "large"):
        for task in ("xnli", "qa"):
            for fraction in (0.5, 1.0):
                cell = expected_cell(rows, model, task, fraction)
                assert cell in markdown, (model, task, fraction, cell)
                assert cell.replace(" ± ", " $\\pm$ ") in latex
                assert cell in page
                zero_shot = expected_cell(rows, model, task, fraction, exclude=("en",))
                assert zero_shot in markdown
    # the header names the columns with their fraction, the baseline and the control
    assert "| target \\ intermediate | baseline (none) | squad fraction=0.5 | squad fraction=1 | control (no pretraining) |" \
        in markdown
    # the official average row: the baseline's, then squad at fraction 1 with its delta
    base_avg = expected_average(rows, "base", "none", None)
    squad_avg = expected_average(rows, "base", "squad", 1.0)
    average_line = next(line for line in markdown.splitlines() if line.startswith("| **average (languages evaluated)**"))
    assert f"| {base_avg:.1f} ± " in average_line
    assert f"| {squad_avg:.1f} ± " in average_line and f"({squad_avg - base_avg:+.1f}" in average_line
    assert "(EM + F1) / 2" in markdown


def test_per_language_table_and_chance(tables):
    folder, paths = tables
    rows = csv_rows(folder / "results")
    markdown = paths["markdown"].read_text()
    values = [float(r["value"]) for r in rows if r["model"] == "base" and r["task"] == "xnli"
              and r["language"] == "qae" and r["intermediate"] == "none" and r["pretraining"] == "mlm"]
    expected = f"| qae | {mean(values):.1f} ± {t_half_width(values):.1f} |"
    assert expected in markdown
    assert "| xnli | accuracy | 33.3 |" in markdown


def test_significance_marks_follow_the_tests(tables):
    _, paths = tables
    markdown = paths["markdown"].read_text()
    section = markdown.split("## Significance against the baseline")[1].split("\n## ")[0]
    lines = [line for line in section.splitlines() if line.startswith("| base | xnli | squad fraction=1 |")]
    assert len(lines) == 1
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    low, high = (float(v) for v in re.findall(r"[-+]\d+\.\d", cells[4]))
    assert low <= float(cells[3]) <= high
    assert cells[9] == "2"  # two paired seeds
    p_examples = cells[5]
    in_table = next(line for line in markdown.splitlines() if line.startswith("| xnli |"))
    cell = in_table.strip("|").split("|")[3]  # target, baseline, fraction 0.5, fraction 1
    assert ("†" in cell) == (p_examples == "<0.001" or float(p_examples) < 0.05)


@pytest.mark.slow
def test_plots_exist_and_show_their_labels(rendered):
    folder, _ = rendered
    plots = folder / "report" / "plots"
    for name in ("heatmap-base", "heatmap-large", "language-gains-base", "language-gains-large", "languages-base",
                 "scaling-fraction", "models", "typology-base"):
        png, svg = plots / f"{name}.png", plots / f"{name}.svg"
        assert png.stat().st_size > 5000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text()
    assert "xnli" in (plots / "heatmap-base.svg").read_text()
    assert "squad fraction=1" in (plots / "heatmap-base.svg").read_text()
    assert "gain over baseline" in (plots / "scaling-fraction.svg").read_text()
    assert "large" in (plots / "models.svg").read_text()
    assert "typological distance from English" in (plots / "typology-base.svg").read_text()


@pytest.mark.slow
def test_html_is_self_contained(rendered):
    _, paths = rendered
    page = paths["html"].read_text()
    # 2 heatmaps, 2 per-language gain heatmaps, 2 language bars, scaling, models, 2 typology
    assert page.count("data:image/svg+xml;base64,") == 10
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<style>" in page and "<table>" in page


def test_latex_is_a_booktabs_document_with_escaped_names(tables):
    _, paths = tables
    latex = paths["latex"].read_text()
    assert latex.startswith("\\documentclass") and latex.rstrip().endswith("\\end{document}")
    assert "\\usepackage{booktabs}" in latex and "\\toprule" in latex and "\\bottomrule" in latex
    assert latex.count("\\begin{tabular}") == latex.count("\\end{tabular}") > 4
    body = latex.split("\\begin{document}")[1]
    assert "target \\textbackslash{} intermediate" in body
    assert not re.search(r"(?<!\\)_", body.replace("\\includegraphics", "").split("\\begin{figure}")[0])


def test_older_results_without_axes_or_example_scores(tmp_path):
    from xstilts.reports.results import load_results
    from xstilts.reports.write import write_report

    write_results(tmp_path / "results", with_axes=False, with_examples=False)
    # without axes the two squad fractions are told apart by their pipelines, never averaged together
    paths = write_report(load_results(tmp_path / "results"), tmp_path / "report", n_resamples=50, plots=False)
    markdown = paths["markdown"].read_text()
    assert "pipeline=base/squad/0.5/xnli" in markdown
    assert "Significance over test examples: n/a" in markdown
    section = markdown.split("## Significance against the baseline")[1]
    assert "| n/a | n/a |" in section


def test_report_command_reads_the_default_folder_and_does_not_import_torch(tmp_path):
    study = tmp_path / "hand.yaml"
    from xstilts.config.load import load_study

    preset = load_study("tiny")
    study.write_text(Path(SRC, "xstilts", "presets", "tiny.yaml").read_text())
    write_results(tmp_path / "xstilts-out" / preset.name, with_examples=False)
    code = (
        "import sys\n"
        f"sys.argv = ['xstilts', 'report', {str(study)!r}, '--out', 'rep', '--resamples', '20', '--no-plots']\n"
        "from xstilts.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "| qa |" in (tmp_path / "rep" / "report.md").read_text()
    assert (tmp_path / "rep" / "report.html").is_file() and not (tmp_path / "rep" / "plots").exists()


def test_missing_results_name_the_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "xstilts", "report", "tiny", "--out", "rep"],
                            capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no results.csv in xstilts-out/" in result.stderr and "--results" in result.stderr


def test_summary_after_a_run_uses_the_report_tables(tmp_path):
    from types import SimpleNamespace

    from xstilts.reports.results import read_results_csv
    from xstilts.reports.summary import summary_markdown

    write_results(tmp_path, with_examples=False)
    rows = read_results_csv(tmp_path / "results.csv")
    study = SimpleNamespace(name="hand", variant=None, is_smoke_test=lambda: False, description="", seeds=[0, 1],
                            model_configs=lambda: {"base": None, "large": None}, model_label=lambda name: name)
    text = summary_markdown(study, rows)
    csv_only = csv_rows(tmp_path)
    assert expected_cell(csv_only, "base", "xnli", 1.0) in text
    assert "### Zero-shot languages only (English excluded) — large" in text


def test_micro_languages_use_the_generator_typology():
    from xstilts.micro.languages import typology
    from xstilts.reports.typology import language_distances

    distances, notes = language_distances(["en", "qaa", "qae"])
    far = typology("qae")
    assert distances["en"][0] == 0 and notes == []
    assert distances["qae"] == (pytest.approx(sum(far.values()) / len(far)), "micro generator")
    assert distances["qaa"][0] < distances["qae"][0]


def test_real_languages_use_uriel_when_lang2vec_is_installed():
    pytest.importorskip("lang2vec", reason="the typology extra is not installed: pip install 'xstilts[typology]'")
    from xstilts.reports.typology import language_distances

    distances, notes = language_distances(["en", "de", "ja", "zz"])
    assert distances["de"][1] == "URIEL syntax_knn"
    # German's syntax is far closer to English's than Japanese's (SOV, postpositions, wh-in-situ)
    assert 0 < distances["de"][0] < distances["ja"][0] <= 1
    assert "zz" not in distances and any("zz" in note for note in notes)


def test_real_languages_without_lang2vec_give_a_note(monkeypatch):
    from xstilts.reports import typology

    monkeypatch.setattr(typology, "_has_lang2vec", lambda: False)
    distances, notes = typology.language_distances(["en", "de", "qaa"])
    assert "de" not in distances and "qaa" in distances
    assert notes == ["Typological distances of real languages (de) need lang2vec: pip install 'xstilts[typology]'."]


def test_example_ids_are_aligned_and_mismatches_give_no_example_test(tmp_path):
    from xstilts.reports.model import build_report
    from xstilts.reports.results import load_results

    def significance(folder):
        results = load_results(folder)
        report = build_report(results.rows, results.examples, n_resamples=50)
        return {(table.model, t, c.label()): (s.examples.low, s.examples.high, s.examples.p_value) if s.examples else None
                for table in report.paper for (t, c), s in table.cells.items() if s.delta is not None}

    write_results(tmp_path / "a")
    reference = significance(tmp_path / "a")
    assert sum(v is not None for v in reference.values()) == 8  # 2 models x 2 targets x 2 fractions
    assert reference[("base", "xnli", "control (no pretraining)")] is None  # the control has no example scores
    # the same units listed in another order for one system: the same bootstrap
    lines = (tmp_path / "a" / "example_scores.jsonl").read_text().splitlines()
    shuffled = []
    for line in lines:
        record = json.loads(line)
        if "-squad-" in record["eval_key"]:
            order = list(reversed(range(len(record["ids"]))))
            record = {**record, **{k: [record[k][i] for i in order] for k in ("ids", "num", "den")}}
        shuffled.append(json.dumps(record))
    (tmp_path / "a" / "example_scores.jsonl").write_text("\n".join(shuffled) + "\n")
    assert significance(tmp_path / "a") == reference
    # other examples for one system: no paired test for its cells
    broken = [json.loads(line) for line in shuffled]
    for record in broken:
        if record["eval_key"].startswith("base-squad-1.0-xnli"):
            record["ids"] = [f"other-{i}" for i in range(len(record["ids"]))]
    (tmp_path / "a" / "example_scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in broken))
    changed = significance(tmp_path / "a")
    assert changed[("base", "xnli", "squad fraction=1")] is None
    assert changed[("base", "qa", "squad fraction=1")] == reference[("base", "qa", "squad fraction=1")]


def test_results_without_a_baseline_have_no_deltas(tmp_path):
    from xstilts.reports.document import blocks
    from xstilts.reports.model import build_report
    from xstilts.reports.render import blocks_markdown
    from xstilts.reports.results import read_results_csv

    write_results(tmp_path, with_examples=False)
    rows = [r for r in read_results_csv(tmp_path / "results.csv") if r["intermediate"] != "none"]
    report = build_report(rows, n_resamples=0)
    cells = [s for table in report.paper for s in table.cells.values()]
    assert cells and all(s.delta is None for s in cells)
    text = blocks_markdown(blocks(report))
    assert "Significance against the baseline" not in text and "(+" not in text


def test_bad_example_scores_name_the_line(tmp_path):
    from xstilts.errors import DataError
    from xstilts.reports.results import load_results

    write_results(tmp_path, with_examples=False)
    (tmp_path / "example_scores.jsonl").write_text('{"eval_key": "k", "metric": "f1", "ids": [1], "num": [1], '
                                                   '"den": [1]}\n{"eval_key": "k"}\n')
    with pytest.raises(DataError, match=r"example_scores.jsonl:2: not an example-score record"):
        load_results(tmp_path)


def test_an_axis_that_changes_the_baseline_pairs_each_column_with_its_own_baseline():
    from xstilts.reports.model import build_report
    from xstilts.reports.results import normalise_row

    def row(intermediate, lr, language, value):
        axes = {"intermediate": None if intermediate == "none" else intermediate, "lr": lr, "target": "xnli"}
        return normalise_row({"task": "xnli", "language": language, "metric": "accuracy", "value": value,
                              "main": True, "seed": 0, "model": "m", "intermediate": intermediate,
                              "pretraining": "mlm", "family": "classification", "axes": json.dumps(axes),
                              "eval_key": f"{intermediate}-{lr}-{language}", "pipeline": f"{intermediate}/{lr}"})

    rows = [row("none", 1, "en", 80), row("none", 1, "de", 60), row("none", 2, "en", 70), row("none", 2, "de", 50),
            row("squad", 1, "en", 84), row("squad", 1, "de", 66), row("squad", 2, "en", 71), row("squad", 2, "de", 51)]
    (table,) = build_report(rows, n_resamples=0).paper
    cells = {(c.label(), round(s.mean, 3), None if s.delta is None else round(s.delta, 3))
             for (_, c), s in table.cells.items()}
    assert cells == {("baseline (none) lr=1", 70, None), ("baseline (none) lr=2", 60, None),
                     ("squad lr=1", 75, 5), ("squad lr=2", 61, 1)}


def test_report_bootstrap_agrees_with_the_reference_implementation(tmp_path):
    """The report resamples each language once for all systems; the same cell through stats.paired_bootstrap
    (examples and seeds stacked by hand from the JSON lines) gives the same delta and nearly the same interval."""
    from xstilts.reports.model import build_report
    from xstilts.reports.results import load_results
    from xstilts.reports.stats import Units, paired_bootstrap

    write_results(tmp_path)
    records = {r["eval_key"]: r for r in map(json.loads, (tmp_path / "example_scores.jsonl").read_text().splitlines())
               if r["metric"] == "accuracy"}

    def units(intermediate, fraction, language):
        rows = [records[f"base-{intermediate}-{fraction}-xnli-{seed}-{language}"] for seed in (0, 1)]
        return Units(np.array([r["num"] for r in rows])[:, :, None], np.array([r["den"] for r in rows])[:, :, None])

    reference = paired_bootstrap([units("squad", 1.0, lg) for lg in LANGUAGES],
                                 [units("none", None, lg) for lg in LANGUAGES], n_resamples=4000, seed=1)
    results = load_results(tmp_path)
    table = build_report(results.rows, results.examples, n_resamples=4000, per_language=False).paper[0]
    (cell,) = [s for (t, c), s in table.cells.items() if t == "xnli" and c.label() == "squad fraction=1"]
    assert cell.examples.delta == pytest.approx(reference.delta, abs=1e-9)
    assert cell.examples.delta == pytest.approx(cell.delta, abs=1e-3)  # the CSV's values, rounded to 4 places
    assert cell.examples.low == pytest.approx(reference.low, abs=1.0)
    assert cell.examples.high == pytest.approx(reference.high, abs=1.0)
