"""Ground truth next to the data, in `<landing>/_ground_truth/` (docs/architecture.md):

- `exceptions.csv`: `exception_type,key`, the rows the spec's definitions yield on the data
  as delivered (the oracle reads the landing folder back; it is not the list of injections).
- `invalid_records.csv`: `source,file_path,record_no,reason`, every record the loaders must
  quarantine (record_no 0 for a malformed file).
- `injected.csv`: `exception_type,key` of what the simulator injected on purpose (delivered
  records only): a subset of exceptions.csv, which also holds what happened naturally.
- `summary.json`: seed, arguments, counts, as_of, injected counts per type, repeats and
  re-delivered files, and the exception counts per type.
"""
from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

from .landing import InvalidRecord

GROUND_TRUTH_DIR = "_ground_truth"


def write_ground_truth(out: Path, invalid: list[InvalidRecord], summary: dict, with_exceptions: bool = True,
                       progress: bool = False, injections: list[tuple[str, str]] = ()) -> None:
    folder = out / GROUND_TRUTH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "injected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["exception_type", "key"])
        writer.writerows(sorted(injections))
    rows = sorted((r.source, r.file_path, r.record_no, r.reason) for r in invalid)
    with open(folder / "invalid_records.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["source", "file_path", "record_no", "reason"])
        writer.writerows(rows)
    summary["as_of"] = None
    summary["redelivered_files_count"] = len(summary.get("redelivered_files", []))
    if with_exceptions:
        from .oracle import evaluate
        from .reader import read_landing

        if progress:
            print("reading the landing folder back for the ground truth (oracle)...", file=sys.stderr)
        result = read_landing(out, fold=True)
        as_of = result.as_of
        exceptions = evaluate(result.data, as_of)
        with open(folder / "exceptions.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["exception_type", "key"])
            writer.writerows(exceptions)
        summary["as_of"] = as_of.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if as_of else None
        summary["exceptions"] = dict(sorted(Counter(t for t, _ in exceptions).items()))
        summary["exceptions_total"] = len(exceptions)
        summary["reader_check"] = {
            "rejects": len(result.rejects),
            "duplicate_files": len(result.duplicate_files),
            "exact_repeats_skipped": result.exact_repeats,
            "rejects_match_injected": sorted(result.rejects) == rows,
        }
    with open(folder / "summary.json", "w", encoding="utf-8") as handle:
        json.dump(summary, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.write("\n")
