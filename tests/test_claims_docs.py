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
