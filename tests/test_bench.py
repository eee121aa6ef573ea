"""The benchmark suite runs end to end at tiny sizes (a smoke test: no speed is asserted)."""

import json

from bench.__main__ import main
from bench.stats import pct


def test_percentiles():
    assert pct([1, 2, 3, 4, 5], 50) == 3
    assert pct([10, 20], 95) == 19.5


def test_quick_bench_writes_results(tmp_path):
    assert main(["--quick", "--results", str(tmp_path)]) == 0
    assert not (tmp_path / "latest.json").exists()  # a partial run never replaces the full one
    result = json.loads((tmp_path / "partial.json").read_text(encoding="utf-8"))
    assert result["complete"] is False
    assert [row["chunks"] for row in result["ingest_scaling"]] == [20, 50]
    assert result["ingest_throughput"]["ratio"] > 0
    for q in result["query_latency"]:
        assert q["p50_ms"] > 0 and not q["bm25_rebuilt_per_query"]
    assert "## Ingest" in (tmp_path / "partial.md").read_text(encoding="utf-8")
    probes = {p["engine"]: p for p in result["scale"]["rows"][0]["probes"]}
    assert set(probes) == {"sqlite", "tantivy", "memory"}
    assert all(p["added_article_found"] and p["removed_chunks"] == p["article_chunks"] for p in probes.values())
    assert all(p["added_found"] for row in result["keyword_scale"]["rows"] for p in row["probes"])
    assert [r["max_in_flight"] for r in result["remote_ingest"]["rows"]] == [1, 4]
