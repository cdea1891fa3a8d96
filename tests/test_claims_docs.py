"""The claims docs are generated from runs: every block between the markers in the README,
docs/claims.md and docs/claims/<study>.md is what scripts/claims_docs.py makes of
docs/claims/runs.json, and every number in the README's block is in that snapshot."""

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("claims_docs", ROOT / "scripts" / "claims_docs.py")
claims_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claims_docs)


def test_every_generated_block_is_current():
    record = json.loads(claims_docs.SNAPSHOT.read_text())
    for path, block in claims_docs.targets(record).items():
        text = path.read_text()
        assert claims_docs.replaced(text, block, path) == text, f"{path} is stale: python scripts/claims_docs.py write"


def test_the_readme_numbers_are_the_snapshots():
    record = json.loads(claims_docs.SNAPSHOT.read_text())
    block = claims_docs.readme_block(record)
    measured = re.findall(r": (?:reproduced|not reproduced|inconclusive): ([-+]?\d[\d.e+-]*) \[", block)
    assert measured, "the block lists no measured value"
    snapshot_measured = {c.get("measured") for run in record["runs"].values() for c in run["claims"]}
    for number in measured:
        assert number in snapshot_measured, number
    assert record["how"] in block  # the block says where its runs come from


def test_study_pages_hold_no_number_outside_their_generated_block():
    """docs/claims.md and the study pages carry numbers only inside the generated block; the hand-written,
    dated lab notes live in docs/notes/<study>.md, one linked from each page."""
    for page in [ROOT / "docs" / "claims.md", *(ROOT / "docs" / "claims" / p for p in claims_docs.STUDY_PAGES.values())]:
        head, rest = page.read_text().split(claims_docs.BEGIN, 1)
        tail = rest.split(claims_docs.END, 1)[1]
        assert not re.search(r"\d\.\d", head + tail), f"{page.name} has a measured number outside its generated block"
    for study, page in claims_docs.STUDY_PAGES.items():
        assert f"../notes/{page}" in (ROOT / "docs" / "claims" / page).read_text()
        assert (ROOT / "docs" / "notes" / page).is_file(), study


def test_every_claim_says_where_in_the_paper_it_comes_from():
    """Claim.where names the section, table, figure or theorem (or says there is no paper) for the study pages."""
    for (name, statement), claim in claims_docs.live_claims().items():
        assert len(claim.where.strip()) > 10, f"{name}: '{statement}' has no where"


def test_the_readme_first_run_numbers_are_the_benchmarks():
    """The README's cold and warm seconds are those scripts/first_run_bench.py --write recorded."""
    span = re.search(r"<!-- first run -->(\d+) s .*?, (\d+) s the second<!-- end first run -->",
                     (ROOT / "README.md").read_text())
    about = json.loads((ROOT / "experiments" / "timings.json").read_text())["about"]
    assert span and f"cold (empty cache) **{span[1]} s**" in about and f"warm {span[2]} s" in about, about
