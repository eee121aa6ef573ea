"""A small end-to-end run of ``python -m eval`` (real corpus, real 0.5B model): the report,
the JSON and the plot are written and every metric is computed. A smoke test, not a score gate."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.llm
def test_eval_writes_results_report_and_plot(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "eval", "--limit", "3", "--model", "qwen2.5-coder-0.5b-instruct-q4",
         "--results", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    latest = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert latest["meta"]["model"] == "llamacpp:qwen2.5-coder-0.5b-instruct-q4"
    assert len(latest["questions"]) == 3 and "[3/3]" in proc.stderr
    summary = latest["summary"]
    assert 0 <= summary["fact_accuracy"] <= 1 and summary["latency"]["total_p50_s"] > 0
    assert len(list((out / "history").glob("2*.json"))) == 1 and not list(out.glob("2*.json"))  # the copy
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "key-fact accuracy" in report and "![accuracy and latency](latest.png)" in report
    assert (out / "latest.png").stat().st_size > 10_000
