"""`auditor extract`: the metrics table of the given documents."""

from __future__ import annotations

from pathlib import Path

import click

from .options import document_options, resolve_config


@click.command("extract")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="File to write (default: stdout).")
@document_options
def extract(paths: tuple[str, ...], fmt: str, output: Path | None, year: int | None, max_bytes: int | None,
            config_path: Path | None) -> int:
    """Extract every figure in PATHS (files or folders) as a table validated by its pandera schema."""
    import json

    from ..audit import analyse_paths
    from ..errors import UsageError
    from ..metrics import to_frame
    from ..report.write import write_output

    config = resolve_config(config_path, year=year, max_bytes=max_bytes)
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet needs --output FILE")
    documents = analyse_paths(paths, config)  # everything is read before anything is written
    metrics = [m for d in documents for m in d.metrics]
    if fmt == "json":
        records = [m.contract_record() for m in metrics]
        write_output(output, json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return 0
    frame = to_frame(metrics)
    if fmt == "csv":
        write_output(output, frame.to_csv(index=False))
    else:
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_output(output, buffer.getvalue())
    return 0
