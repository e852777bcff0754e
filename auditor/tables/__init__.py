"""Incoming metric tables (CSV, JSON lines, Parquet, Excel) gated by the same YAML rules as the text.

    read.py             table files → a canonical frame + where every cell is (line, column, offsets)
    plan.py             rules → engine-neutral row checks (TableCheck)
    compile_pandera.py  checks → a pandera DataFrameSchema (also written out as a Python module)
    compile_gx.py       checks → a Great Expectations 1.x ExpectationSuite, run by a GX validation
    gate.py             read → plan → one engine → Findings in an AuditResult every reporter renders

Nothing here is imported by the text audit; pandas, pandera and great_expectations load only when a
table is checked.
"""
