"""The interactive explorer (explorer.html beside report.html): self-contained, holding every main-metric value
of the results; in headless Chromium its filters (language, language group, seed, model, task) change the
score table and the heatmap to the means recomputed here from the CSV."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from statistics import mean

import pytest

from test_report_render import csv_rows, write_results
from xstilts.reports.explorer import distance_bands


@pytest.fixture(scope="module")
def explorer(tmp_path_factory) -> tuple[Path, Path]:
    from xstilts.reports.results import load_results
    from xstilts.reports.write import write_report

    folder = tmp_path_factory.mktemp("explorer")
    write_results(folder / "results")
    paths = write_report(load_results(folder / "results"), folder / "report", title="hand study", n_resamples=0,
                         plots=False)
    return folder / "results", paths["explorer"]


def page_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, flags=re.S)
    assert match
    return json.loads(match.group(1).replace("<\\/", "</"))


def main_rows(results: Path) -> list[dict]:
    return [r for r in csv_rows(results) if r["main"] == "True"]


def cell(rows, model, task, intermediate, fraction=None, languages=None, seeds=None, control=False) -> float:
    """Mean over seeds of the mean over languages of the main metric, from the CSV."""
    per_seed: dict[str, list[float]] = {}
    for row in rows:
        axes = json.loads(row["axes"] or "{}")
        if (row["model"], row["task"], row["intermediate"]) != (model, task, intermediate):
            continue
        if (row["pretraining"] == "none") != control or (fraction is not None and axes.get("fraction") != fraction):
            continue
        if (languages is None or row["language"] in languages) and (seeds is None or row["seed"] in seeds):
            per_seed.setdefault(row["seed"], []).append(float(row["value"]))
    return mean(mean(v) for v in per_seed.values())


def test_explorer_is_self_contained_and_holds_every_value(explorer):
    results, path = explorer
    page = path.read_text()
    assert "http://" not in page and "https://" not in page
    assert re.findall(r'(?:src|href)="([^"]*)"', page) == ["report.html"]  # the only link: the report beside it
    assert "<script>" in page and "<style>" in page
    data = page_data(page)
    rows = main_rows(results)
    assert len(data["values"]) == len(rows)  # every (model, task, condition, language, seed) once
    labels = {c["label"] for c in data["columns"]}
    assert {"baseline (none)", "squad fraction=0.5", "squad fraction=1", "control (no pretraining)"} == labels
    assert len({c["colour"] for c in data["columns"]}) == len(labels)
    by_key = {(data["models"][m], data["targets"][t]["id"], data["languages"][lg]["code"], data["seeds"][s],
               data["columns"][c]["label"]): v for m, t, c, lg, s, v in data["values"]}
    row = next(r for r in rows if r["model"] == "large" and r["task"] == "qa" and r["language"] == "qae"
               and r["intermediate"] == "squad" and json.loads(r["axes"])["fraction"] == 0.5 and r["seed"] == "1")
    assert by_key[("large", "qa", "qae", "1", "squad fraction=0.5")] == pytest.approx(float(row["value"]), abs=1e-4)
    groups = {(g["kind"], g["name"]): g["languages"] for g in data["groups"]}
    assert groups[("family", "synthetic (micro)")] == ["qaa", "qae"] and groups[("distance", "English")] == ["en"]


def test_distance_bands_split_in_thirds_and_keep_ties_together():
    bands = distance_bands({"en": 0.0, "a": 0.1, "b": 0.2, "c": 0.4, "d": 0.4, "e": 0.9, "f": 1.0})
    assert bands == {"English": ["en"], "near (0.10-0.20)": ["a", "b"], "middle (0.40)": ["c", "d"],
                     "far (0.90-1.00)": ["e", "f"]}
    assert distance_bands({"en": 0.0, "a": 0.3}) == {"English": ["en"], "other languages": ["a"]}


# ------------------------------------------------------------------ in a real browser


def _chrome():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    binary = next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("Chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1200"):
        options.add_argument(argument)
    options.binary_location = binary
    return webdriver.Chrome(service=Service(driver), options=options)  # an explicit driver: nothing is downloaded


@pytest.fixture(scope="module")
def browser():
    driver = _chrome()
    yield driver
    driver.quit()


@pytest.mark.slow
def test_filters_change_the_tables_in_headless_chromium(explorer, browser, tmp_path):
    from selenium.webdriver.common.by import By

    results, path = explorer
    rows = main_rows(results)
    browser.get(path.as_uri())
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"

    def shown(model: str, task: str, column: str, what: str = "score") -> float:
        selector = (f'section[data-model="{model}"] table.scores td[data-target="{task}"]'
                    f'[data-column="{column}"]')
        return float(browser.find_element(By.CSS_SELECTOR, selector).get_attribute(f"data-{what}"))

    def click(selector: str) -> None:
        browser.find_element(By.CSS_SELECTOR, selector).click()

    def heatmap_languages(model: str) -> list[str]:
        cells = browser.find_elements(By.CSS_SELECTOR, f'section[data-model="{model}"] table.heatmap th[data-language]')
        return [c.text for c in cells]

    # everything selected: the plain means over languages and seeds, and the gain over the baseline
    ours = cell(rows, "base", "xnli", "squad", 1.0)
    assert shown("base", "xnli", "squad fraction=1") == pytest.approx(ours, abs=1e-3)
    assert shown("base", "xnli", "squad fraction=1", "gain") == pytest.approx(
        ours - cell(rows, "base", "xnli", "none"), abs=1e-3)
    assert shown("base", "xnli", "control (no pretraining)") == pytest.approx(cell(rows, "base", "xnli", "none", control=True),
                                                                      abs=1e-3)
    assert heatmap_languages("base") == ["en", "qaa", "qae"]

    # English off: the zero-shot languages only
    click('input[data-filter="language"][value="en"]')
    zero_shot = ["qaa", "qae"]
    assert shown("large", "qa", "squad fraction=0.5") == pytest.approx(
        cell(rows, "large", "qa", "squad", 0.5, languages=zero_shot), abs=1e-3)
    assert heatmap_languages("large") == zero_shot

    # seed 1 off as well
    click('input[data-filter="seed"][value="1"]')
    assert shown("large", "qa", "squad fraction=0.5") == pytest.approx(
        cell(rows, "large", "qa", "squad", 0.5, languages=zero_shot, seeds=["0"]), abs=1e-3)
    heat = browser.find_element(By.CSS_SELECTOR, 'section[data-model="base"] td.heat[data-target="xnli"]'
                                                 '[data-column="squad fraction=1"][data-language="qae"]')
    assert float(heat.get_attribute("data-gain")) == pytest.approx(
        cell(rows, "base", "xnli", "squad", 1.0, ["qae"], ["0"]) - cell(rows, "base", "xnli", "none", None, ["qae"], ["0"]),
        abs=1e-3)

    # a language group at once: the family of English alone
    click('button[data-group="family:English"]')
    checked = [b.get_attribute("value") for b in browser.find_elements(By.CSS_SELECTOR, 'input[data-filter="language"]')
               if b.is_selected()]
    assert checked == ["en"] and heatmap_languages("base") == ["en"]
    assert shown("base", "xnli", "baseline (none)") == pytest.approx(
        cell(rows, "base", "xnli", "none", languages=["en"], seeds=["0"]), abs=1e-3)

    # one model, one task
    click('input[data-filter="model"][value="large"]')
    assert [s.get_attribute("data-model") for s in browser.find_elements(By.CSS_SELECTOR, "section.model")] == ["base"]
    click('input[data-filter="target"][value="qa"]')
    assert not browser.find_elements(By.CSS_SELECTOR, 'table.scores td[data-target="qa"]')
    click('button[data-none="target"]')
    assert "Select at least one" in browser.find_element(By.ID, "views").text
    click('button[data-all="target"]')
    assert browser.find_elements(By.CSS_SELECTOR, 'table.scores td[data-target="qa"]')
    screenshot = tmp_path / "explorer.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000


def test_real_languages_are_grouped_by_uriel_family_and_distance():
    pytest.importorskip("lang2vec", reason="the typology extra is not installed: pip install 'xstilts[typology]'")
    from xstilts.reports.explorer import explorer_data
    from xstilts.reports.results import Results, normalise_row
    from xstilts.reports.write import prepare_report

    languages = ["en", "de", "nl", "hi", "ja", "sw"]
    rows = [normalise_row({"task": "xnli", "language": lg, "metric": "accuracy", "value": 50 + k + (3 if inter != "none" else 0),
                           "main": True, "seed": 0, "model": "m", "intermediate": inter, "pretraining": "model",
                           "family": "classification", "eval_key": f"{inter}-{lg}"})
            for k, lg in enumerate(languages) for inter in ("none", "squad")]
    data = explorer_data(prepare_report(Results(rows, {}, None), n_resamples=0))
    groups = {(g["kind"], g["name"]): g["languages"] for g in data["groups"]}
    assert groups[("family", "Indo-European / Germanic")] == ["en", "de", "nl"]
    assert groups[("family", "Japonic / Japanese")] == ["ja"]
    bands = [members for (kind, name), members in groups.items() if kind == "distance" and name != "English"]
    assert len(bands) == 3 and sorted(lg for band in bands for lg in band) == sorted(languages[1:])
    assert {"de", "nl"} <= set(bands[0])  # the Germanic languages are the nearest to English
