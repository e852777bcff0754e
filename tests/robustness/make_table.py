"""Write docs/robustness.md: input | expected | observed, from what tests/robustness asserts.

    python -m tests.robustness.make_table            # runs the cases and the suite, then writes the file
    python -m tests.robustness.make_table --fuzz bench/results/fuzz.json

Rows come from the case tables of the test modules (bad documents, rule files, config files) and
from the scenarios below, each tied to the test that asserts it. The observed column is what this
run saw: the error line (with time and peak memory) for each bad document, the error for each rule
and config file, and for the scenarios the test's outcome, its duration and what it printed.
tests/robustness/test_table.py fails when a case is added without writing the table again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "robustness.md"

# (input, expected, test) for what is not a row of a case table.
SCENARIOS = [
    ("text with control characters, bidi overrides, zero-width characters, ESC sequences",
     "a correct report: figures read through them, spans exact, JSON valid",
     "test_huge_and_hostile_text.py::test_control_and_bidi_characters_give_a_correct_report"),
    ("the same text on the console", "no ESC, BEL or bidi override reaches the terminal; shown as <U+…>",
     "test_huge_and_hostile_text.py::test_control_and_bidi_characters_stay_visible_on_the_console"),
    ("text that is >10 % control characters", "exit 2: looks like a binary file (control characters)",
     "test_huge_and_hostile_text.py::test_text_full_of_control_characters_is_refused_as_binary"),
    ("one 10 MB line (the fixtures without line breaks), `extract`",
     "exit 0, > 40 000 figures, every span exact, < 90 s, < 2 GB",
     "test_huge_and_hostile_text.py::test_a_ten_megabyte_line_is_extracted_with_exact_spans"),
    ("one 1 MB line, `audit`", "exit 1, spans exact, JSON valid, < 60 s (was minutes: quadratic rules)",
     "test_huge_and_hostile_text.py::test_a_one_megabyte_line_is_audited_in_seconds"),
    ("one 10 MB line, `audit` (slow)", "exit 1 in < 240 s, < 3 GB",
     "test_huge_and_hostile_text.py::test_a_ten_megabyte_line_is_audited_in_bounded_time"),
    ("one article of 21 000 figures of equal value", "unit and duplicate rules in < 30 s (was 205 s)",
     "test_huge_and_hostile_text.py::test_an_article_of_twenty_thousand_equal_figures_is_checked_in_linear_time"),
    ("a page just over/under --max-bytes; max-bytes in auditor.toml", "refused over, read under; the setting works",
     "test_huge_and_hostile_text.py::test_the_size_limit_is_a_setting_and_an_option"),
    ("a 70 MB file of NULs with --max-bytes 100 MB", "exit 2: binary, < 600 MB",
     "test_bad_documents.py::test_max_bytes_raised_lets_a_large_file_through_to_the_next_check"),
    ("huge numbers: 1e308, 99999999999999999999亿, 400 and 5000 digits, 1e99元, 9^99元, 一×300万元",
     "finite values or not a figure; never a smaller misreading (1e99元 is not 9元)",
     "test_huge_and_hostile_text.py::test_huge_numbers_are_finite_or_not_figures"),
    ("HTML with <script>, <style>, <title>, <noscript>, entities, bad character references",
     "only visible text read; entities decoded; spans exact",
     "test_huge_and_hostile_text.py::test_html_with_scripts_and_entities_reads_only_the_visible_text"),
    ("HTML with 300 000 unterminated comments, tags, end tags, declarations, CDATA or quotes",
     "read in linear time (< 15 s); what never closes is not text",
     "test_huge_and_hostile_text.py::test_html_with_unterminated_markup_is_read_in_linear_time[comments]"),
    ("a report to a full disk: -o file, `> file` redirect of JSON and of CSV (64 KB tmpfs)",
     "exit 2, one line: No space left on device; no partial report left by -o",
     "test_output_faults.py::test_a_full_disk_is_one_error_and_no_report_is_cut_short"),
    ("-o / --html into a read-only folder", "exit 2, one line: cannot write output (Permission denied)",
     "test_output_faults.py::test_a_read_only_output_folder_is_one_error"),
    ("-o naming a folder", "exit 2: output path is a folder",
     "test_output_faults.py::test_an_output_path_that_is_a_folder_is_one_error"),
    ("a broken page among good ones in a folder", "exit 2 naming it; no report half-written",
     "test_bad_documents.py::test_a_bad_file_among_good_ones_stops_the_run_naming_it"),
    ("symbolic-link loops inside a walked folder", "walked once, pages read, no hang",
     "test_bad_documents.py::test_a_symlink_loop_inside_a_walked_folder_does_not_hang"),
    ("a catastrophic regex in each kind's parameters (pattern, allow, placeholder, duplicate placeholder and "
     "boilerplate, arithmetic cue, doubling placeholder)",
     "exit 2 in about --regex-timeout: rule id, file:line, the option named",
     "test_bad_rules_and_config.py::test_catastrophic_regexes_stop_at_the_time_limit_naming_the_rule"),
    ("regex-timeout in auditor.toml; --regex-timeout 1e18", "the setting applies; out of range is a usage error",
     "test_bad_rules_and_config.py::test_the_time_limit_is_a_setting"),
    ("malformed rule files through `rules validate` and `audit --rules`", "exit 2, one line",
     "test_bad_rules_and_config.py::test_rule_file_errors_through_the_command_line"),
    ("bad auditor.toml through `audit`", "exit 2, one line naming auditor.toml",
     "test_bad_rules_and_config.py::test_config_errors_through_the_command_line"),
    ("`history add` killed with SIGKILL 15 times: before, just before and during the commit (slow)",
     "the store always opens; holds the whole batch or none of it; no orphan rows; takes the batch after",
     "test_history_integrity.py::test_history_add_killed_at_random_moments_keeps_whole_batches"),
    ("history store in a read-only folder; read-only store file", "exit 2, one line naming the store; store intact",
     "test_history_integrity.py::test_read_only_store_folder_and_file_are_one_clear_error"),
    ("history store on a full disk (1 MB tmpfs)", "exit 2: No space left on device; the earlier batch intact",
     "test_history_integrity.py::test_a_full_disk_is_one_clear_error_and_the_store_keeps_what_it_had"),
    ("analysed documents spilled to a full temporary folder (64 KB tmpfs as TMPDIR, `spill-above = 0`, 2 jobs)",
     "exit 2, one line naming the folder: cannot keep analysed documents on disk: No space left on device (free "
     "space, point TMPDIR elsewhere, or raise spill-above); no report, the spill folder removed",
     "test_output_faults.py::test_a_full_disk_under_the_spill_folder_is_one_error_and_leaves_nothing"),
    ("a worker process killed (SIGKILL, as the out-of-memory killer does) while it analyses a page, 2 jobs, spilled",
     "exit 2, one line: a worker process stopped abruptly (killed, or out of memory?); the pool stops, the spill "
     "folder removed",
     "test_worker_faults.py::test_a_worker_killed_mid_audit_leaves_no_spill_behind"),
    ("a page and a rule file full of markup (<script>, onerror, <svg onload>, <iframe>)",
     "HTML report: only its own 2 scripts, no on* attributes, input shown as text",
     "test_safe_reports.py::test_the_html_report_escapes_documents_and_rule_texts"),
    ("the same report opened in Chromium", "no script runs (window.__pwned unset), no request leaves the file",
     "test_safe_reports.py::test_no_script_from_a_document_or_a_rule_runs_in_chromium"),
    ("the same audit as SARIF", "valid JSON; relative URIs for relative inputs",
     "test_safe_reports.py::test_sarif_is_valid_json_with_relative_uris"),
    ("the same audit as JUnit (BEL, ESC in messages)", "well-formed XML; control characters as \\x07",
     "test_safe_reports.py::test_junit_parses_with_control_characters_made_visible"),
    ("the same audit as GitHub annotations", "one line per annotation",
     "test_safe_reports.py::test_github_annotations_stay_one_line_each"),
    ("the same audit as JSON", "validates against the schema; paths as given (relative)",
     "test_safe_reports.py::test_json_report_validates_and_keeps_relative_paths"),
    ("fuzz: any bytes to the text loader", "decoded exactly by the codec named, or InputError",
     "test_fuzz.py::test_load_text_decodes_exactly_or_refuses"),
    ("fuzz: any bytes as .txt/.md/.html/.pdf/.docx", "a Document or one error line naming the file",
     "test_fuzz.py::test_any_bytes_under_any_suffix_load_or_give_one_error_line"),
    ("fuzz: real and damaged .docx", "a Document or one error line",
     "test_fuzz.py::test_docx_real_or_damaged_loads_or_gives_one_error_line"),
    ("fuzz: the normaliser", "each character maps back to one original character, in order",
     "test_fuzz.py::test_normalised_text_maps_back_character_by_character"),
    ("fuzz: the quantity parser", "spans exact, ordered, values finite",
     "test_fuzz.py::test_quantities_map_back_and_are_finite"),
    ("fuzz: the segmenter", "paragraphs, sentences and clauses nest and map back",
     "test_fuzz.py::test_segments_map_back_and_nest"),
    ("fuzz: the whole audit and all seven report writers",
     "findings map back; JSON valid; HTML parses with no markup from input; JUnit parses; SARIF JSON",
     "test_fuzz.py::test_audit_findings_map_back_and_every_report_is_well_formed"),
]


# Failures these tests found, each fixed where it lived and pinned by the test named.
FIXED = [
    ("one line of 1 MB+ took minutes (10 MB: hours)", "line/column by counting from the start per figure and finding "
     "(`findings.line_and_column`); U001 same-fact, U003 mixed-scale, U006 magnitude-slip and the head-count lookup "
     "compared each figure with every other one (`rules/kinds/unit.py`); a duplicate's left widening walked across "
     "repeated text (`rules/kinds/duplicate.py`); console code frames turned the whole line into cells per finding "
     "(`report/console.py`)", "test_a_one_megabyte_line_is_audited_in_seconds, "
     "test_an_article_of_twenty_thousand_equal_figures_is_checked_in_linear_time"),
    ("a .docx with lying ZIP headers inflated 300 MB in memory (a 64 MB file: ~60 GB)",
     "zipfile inflates a member whole before cutting it to its declared size; members are now inflated in 1 MB "
     "steps and counted first (`documents/load.py`)", "zip-bomb-lying"),
    ("a 200 MB file was read up to the 64 MiB limit before being refused", "refused from its size before reading "
     "(`documents/load.py`)", "over-size-limit (peak memory bound)"),
    ("catastrophic regexes in duplicate, arithmetic and unit parameters hung the audit", "every user pattern runs "
     "under --regex-timeout (`rules/kinds/_common.Timed`)", "test_catastrophic_regexes_stop_at_the_time_limit_naming_the_rule"),
    ("tracebacks from rule files: a message with `{`, `{0}`, a format spec; a pattern group or replacement "
     "group that does not exist; YAML nested 5000 deep; nested aliases hung the loader",
     "checked when the rule file loads, with file:line:col (`rules/loader.py`, `rules/kinds/pattern.py`)",
     "message-*, pattern-*, deep-*, billion-laughs"),
    ("tracebacks from auditor.toml values of the wrong type (max-bytes, regex-timeout, year, rules, history, "
     "[tool] auditor = 5); regex-timeout inf or 1e18 made every regex time out at once",
     "types and ranges checked (`config.py`, `--regex-timeout` capped at 1e6 s)", "configuration table"),
    ("1e99元, 9^99元, 0.1^-99元, 1.5e-400万元 were read as 9元, 9元, 1^-99元, 400万元",
     "a numeral is never cut inside an Arabic number or before its exponent (`extract/quantities.py`)",
     "test_huge_numbers_are_finite_or_not_figures; fuzz example"),
    ("JUnit XML with BEL/ESC from a document did not parse", "XML-forbidden characters written as \\x07 "
     "(`report/junit.py`)", "test_junit_parses_with_control_characters_made_visible"),
    ("HTML with many unterminated comments or tags took minutes (800 KB: > 2 min; html.parser rescans to the "
     "end of the page from each)", "what opens after the last '>' is cut before parsing, as a browser shows "
     "nothing of it (`documents/load.py`)", "test_html_with_unterminated_markup_is_read_in_linear_time"),
    ("a report on a full disk: a traceback and exit 1 with -o; with `> report.json` the JSON was cut at the disk's "
     "end silently, exit 1 (CPython drops the rest of a short write)", "-o: one line, exit 2, temporary file "
     "removed (`report/write.py`); stdout written with os.write in a loop, an OSError at the entry point is one "
     "line, exit 2 (`cli/__init__.py`)", "test_a_full_disk_is_one_error_and_no_report_is_cut_short"),
    ("a file named with a newline or an ESC sequence broke the one error line and reached the terminal",
     "control characters escaped in error lines (`errors.py`) and in console headers (`report/console.py`)",
     "name-control-characters; test_control_and_bidi_characters_stay_visible_on_the_console"),
    ("symbolic-link loops and broken links said 'no such file'; an empty folder's error did not name it",
     "named as such (`documents/load.py`, `audit.py`)", "symlink-*, broken-symlink, folder"),
]


# What fuzzing found while these properties were written: each time the property, not auditor, was wrong.
FUZZ_FOUND = [
    ("load_text: b'\\xff\\xfe\\xff\\xfe' (a BOM, then U+FEFF) loads as the text '\\ufeff'",
     "the property demanded no leading U+FEFF; the loader's contract (tests/documents: any text whose strip() is "
     "not empty loads) keeps it as text", "property corrected; pinned as an example"),
    ("reports: a page holding U+000B", "the GitHub-annotation check split lines with str.splitlines (which breaks "
     "at \\x0b); the runner splits at \\n only, which the writer escapes", "property corrected; pinned"),
    ("reports: a <q> element in the HTML report", "the allowed elements came from one sample report; they are now "
     "read from the report's code and template", "property corrected"),
    ("normalise(''): a span past the end", "the property asked for to_original(0, 1) of an empty text",
     "property corrected"),
]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _observe_documents() -> list[tuple[str, str, str]]:
    from .helpers import can_drop_privileges, run_cli
    from .test_bad_documents import CASES

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            folder = Path(tmp) / case.id
            folder.mkdir()
            target = case.make(folder)
            if case.needs_unprivileged and not can_drop_privileges():
                observed = "not run here (root without setpriv)"
            else:
                run = run_cli("audit", target, timeout=case.seconds * 3, drop_privileges=case.needs_unprivileged)
                line = run.error_lines[0] if run.error_lines else "(no error)"
                line = line.replace(str(folder) + "/", "").replace(str(folder), ".")
                observed = (f"exit {run.returncode}, {len(run.error_lines)} line: `{line}` "
                            f"({run.seconds:.1f} s, {run.peak_mb:.0f} MB)")
            rows.append((case.input, case.expected, observed))
            for p in sorted(folder.rglob("*"), reverse=True):  # unlock what the case locked
                if not p.is_symlink():
                    p.chmod(0o755)
    return rows


def _observe_rules_and_config() -> tuple[list, list]:
    from auditor.config import load_config
    from auditor.errors import AuditorError
    from auditor.rules.loader import load_rules

    from .test_bad_rules_and_config import CONFIG_CASES, RULE_CASES

    rule_rows, config_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for case in RULE_CASES:
            path = Path(tmp) / f"{case.id}.yaml"
            path.write_bytes(case.content)
            started = time.perf_counter()
            try:
                load_rules([path], include_defaults=False)
                observed = "loaded (no error!)"
            except AuditorError as exc:
                observed = f"`{exc.one_line().replace(tmp + '/', '')}`"
            rule_rows.append((case.input, case.expected, f"{observed} ({time.perf_counter() - started:.2f} s)"))
        for case in CONFIG_CASES:
            name = "pyproject.toml" if case.id.endswith("pyproject") else "auditor.toml"
            folder = Path(tmp) / case.id
            folder.mkdir()
            path = folder / name
            path.write_bytes(b"\xff\xfe bad" if case.id == "not-utf8" else case.content.encode("utf-8"))
            try:
                load_config(path)
                observed = "loaded (no error!)"
            except AuditorError as exc:
                observed = f"`{exc.one_line().replace(str(folder) + '/', '')}`"
            shown = case.content.strip().replace("\n", " ⏎ ") or "bytes FF FE"
            config_rows.append((f"`{shown}`", "exit 2, one line naming the file: " + ", ".join(case.needles),
                                observed))
    return rule_rows, config_rows


def _observe_suite() -> dict[str, str]:
    """Run the robustness suite (slow tests included) once; outcome, time and output per test."""
    with tempfile.TemporaryDirectory() as tmp:
        xml_path = Path(tmp) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/robustness",
                        f"--junitxml={xml_path}", "-o", "junit_logging=system-out"], cwd=ROOT, check=False)
        root = ET.parse(xml_path).getroot()
    out = {}
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.py::{case.get('name')}"
        verdict = "failed" if case.find("failure") is not None or case.find("error") is not None else \
            "skipped" if case.find("skipped") is not None else "passed"
        printed = " ".join(line.strip() for line in (case.findtext("system-out") or "").splitlines()
                           if "kills" in line or "examples" in line)
        out[name] = f"{verdict}, {float(case.get('time', 0)):.1f} s" + (f"; {printed}" if printed else "")
    return out


def _fuzz_section(path: Path | None) -> list[str]:
    if path is None or not path.exists():
        return ["_No long fuzz run recorded: `python bench/fuzz_profile.py --examples 20000 --json "
                "bench/results/fuzz.json`, then write this file again._"]
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"`python bench/fuzz_profile.py --examples {data['examples_per_target']}` (seed {data['seed']}):",
             "", "| target | examples | seconds | result |", "|---|---:|---:|---|"]
    for r in data["results"]:
        lines.append(f"| {r['target']} | {r['examples']} | {r['seconds']} | {'FAILED' if r['failed'] else 'ok'} |")
    lines.append(f"| **total** | **{sum(r['examples'] for r in data['results'])}** | "
                 f"{sum(r['seconds'] for r in data['results']):.0f} | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=Path, default=ROOT / "bench" / "results" / "fuzz.json")
    parser.add_argument("--no-suite", action="store_true", help="do not run the suite (scenario rows say so)")
    args = parser.parse_args(argv)
    documents = _observe_documents()
    rules, config = _observe_rules_and_config()
    suite = {} if args.no_suite else _observe_suite()
    out = ["# Robustness: bad input, faults, no lost data", "",
           "Generated by `python -m tests.robustness.make_table` from the cases and tests in "
           "`tests/robustness/` (issue 8); the observed column is that run's.", "",
           "## Bad documents (`auditor audit FILE`; `auditor extract FILE` is asserted the same)", "",
           "| input | expected | observed |", "|---|---|---|"]
    out += [f"| {_cell(i)} | {_cell(e)} | {_cell(o)} |" for i, e, o in documents]
    out += ["", "## Malformed rule files", "", "| input | expected | observed |", "|---|---|---|"]
    out += [f"| {_cell(i)} | {_cell(e)} | {_cell(o)} |" for i, e, o in rules]
    out += ["", "## Configuration", "", "| input | expected | observed |", "|---|---|---|"]
    out += [f"| {_cell(i)} | {_cell(e)} | {_cell(o)} |" for i, e, o in config]
    out += ["", "## Hostile text, limits, history, reports, fuzzing", "",
            "| input | expected | observed | test |", "|---|---|---|---|"]
    for i, e, test in SCENARIOS:
        out.append(f"| {_cell(i)} | {_cell(e)} | {_cell(suite.get(test, 'not run'))} | `{test}` |")
    out += ["", "## Long fuzz profile", ""] + _fuzz_section(args.fuzz)
    out += ["", "Failures fuzzing found while the properties were written (none in auditor itself; the bugs "
            "below were found by the bad-input cases):", "", "| input | cause | outcome |", "|---|---|---|"]
    out += [f"| {_cell(i)} | {_cell(c)} | {_cell(o)} |" for i, c, o in FUZZ_FOUND]
    out += ["", "## Failures found and fixed", "", "| failure | fix | pinned by |", "|---|---|---|"]
    out += [f"| {_cell(f)} | {_cell(x)} | {_cell(t)} |" for f, x, t in FIXED] + [""]
    DOC.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
