"""Reading a record that a run may not have made (a data set, method or stage its config left out)."""

from common import records
from common.experiment import Results


def present(results: Results, prefix: str, record_type):
    """The record stored under `prefix`, or None where this run did not make it."""
    try:
        return records.get(results, prefix, record_type)
    except KeyError:
        return None
