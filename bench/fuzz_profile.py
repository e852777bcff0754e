"""The long fuzz profile: the properties of tests/robustness/test_fuzz.py over many more examples.

    python bench/fuzz_profile.py --examples 20000            # every target, 20000 examples each
    python bench/fuzz_profile.py --examples 2000 --target reports --seed 7
    python bench/fuzz_profile.py --examples 5000 --json bench/results/fuzz.json

CI runs the same properties with a short profile (tests/robustness/test_fuzz.py); this is the
run to do before a release or after touching a loader, the normaliser, the quantity parser, the
segmenter or a report writer. Prints, per target, the examples run (generated inputs, shrinking
excluded), the time, and each failure with its smallest falsifying example; exits 1 if any target
failed. Hypothesis' example database is off: every run explores afresh from its seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.robustness import fuzzing as F  # noqa: E402

SUFFIXES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".xyz"]
PAGES = st.dictionaries(st.sampled_from(["a.txt", "dir/<b>.txt", "c d.md", "报告.txt"]), F.texts,
                        min_size=1, max_size=3)


def targets(tmp: Path) -> dict[str, tuple]:
    """name -> (strategy, property): the same pairs as tests/robustness/test_fuzz.py."""
    return {
        "load_text": (st.tuples(F.document_bytes()), F.check_load_text),
        "load_file": (st.tuples(F.document_bytes(), st.sampled_from(SUFFIXES)),
                      lambda data, suffix: F.check_load_file(tmp, data, suffix)),
        "load_docx": (st.tuples(st.lists(F.texts, max_size=4), st.lists(st.tuples(st.integers(0, 1 << 16),
                                                                                   st.integers(0, 255)), max_size=3)),
                      lambda paras, flips: F.check_load_file(tmp, F.mangle_zip(F.docx_bytes(paras), flips) if flips
                                                             else F.docx_bytes(paras), ".docx")),
        "normalise": (st.tuples(F.texts), F.check_normalise),
        "quantities": (st.tuples(F.texts), F.check_quantities),
        "segment": (st.tuples(F.texts), F.check_segment),
        "reports": (st.tuples(PAGES), F.check_audit_and_reports),
    }


def run(name: str, strategy, prop, examples: int, rng_seed: int) -> dict:
    count = {"n": 0, "shrinking": False}

    def counted(args):
        if not count["shrinking"]:
            count["n"] += 1
        try:
            prop(*args)
        except BaseException:
            count["shrinking"] = True  # what runs after the first failure is shrinking it
            raise

    test = settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                    phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck))(seed(rng_seed)(given(strategy)(counted)))
    started = time.perf_counter()
    failure = None
    try:
        test()
    except Exception as exc:  # noqa: BLE001 - a failing property: report it, go on with the next
        failure = "".join(traceback.format_exception(exc, limit=-4)).strip()
    return {"target": name, "examples": count["n"], "seconds": round(time.perf_counter() - started, 1),
            "failed": failure is not None, "failure": failure}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000, help="examples per target")
    parser.add_argument("--target", action="append", help="only these targets (repeatable)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        table = targets(Path(tmp))
        names = args.target or list(table)
        unknown = set(names) - set(table)
        if unknown:
            parser.error(f"unknown target(s) {', '.join(sorted(unknown))}; known: {', '.join(table)}")
        results = []
        for name in names:
            strategy, prop = table[name]
            r = run(name, strategy, prop, args.examples, args.seed)
            results.append(r)
            print(f"{name:12} {r['examples']:>7} examples  {r['seconds']:>7.1f} s  "
                  f"{'FAILED' if r['failed'] else 'ok'}", flush=True)
            if r["failed"]:
                print("    " + r["failure"].replace("\n", "\n    "), flush=True)
    total = sum(r["examples"] for r in results)
    failed = [r["target"] for r in results if r["failed"]]
    print(f"total: {total} examples over {len(results)} targets, {len(failed)} failing"
          + (f" ({', '.join(failed)})" if failed else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seed": args.seed, "examples_per_target": args.examples,
                                         "results": results}, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
