"""`auditor rules list | show ID | validate PATHS`."""

from __future__ import annotations


import click


@click.group("rules")
def rules() -> None:
    """The rule pack: what each rule checks, and checking rule files."""


@rules.command("list")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(), help="Extra rule file or folder.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
def list_rules(rule_paths: tuple[str, ...], lang: str) -> int:
    """Every rule: id, name, kind, category, severity and what it checks."""
    from rich.console import Console
    from rich.table import Table

    from ..rules.loader import load_rules

    rule_set = load_rules(rule_paths)
    table = Table(box=None, header_style="bold")
    for col in ("id", "name", "kind", "category", "severity", "checks" if lang == "en" else "检查内容"):
        table.add_column(col)
    for r in sorted(rule_set.rules, key=lambda r: r.id):
        off = " (off)" if r.description.get("disabled") else ""
        table.add_row(r.id, r.name + off, r.kind, r.category, r.severity, r.summary_in(lang))
    Console().print(table)
    return 0


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path())
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
def show_rule(rule_id: str, rule_paths: tuple[str, ...], lang: str) -> int:
    """What one rule checks, its parameters and an example it flags."""
    import yaml
    from rich.console import Console

    from ..errors import UsageError
    from ..rules.loader import load_rules

    rule_set = load_rules(rule_paths)
    by_key = {r.id: r for r in rule_set.rules} | {r.name: r for r in rule_set.rules}
    rule = by_key.get(rule_id) or by_key.get(rule_id.upper())
    if rule is None:
        raise UsageError(f"no rule '{rule_id}' (see `auditor rules list`)")
    console = Console()
    console.print(f"[bold]{rule.id}[/bold] {rule.name}  ({rule.kind}, {rule.category}, {rule.severity})")
    console.print(rule.summary_in(lang), markup=False)
    if rule.description:
        console.print(rule.description.get(lang) or rule.description.get("zh", ""), markup=False)
    console.print(f"\n[dim]defined in {rule.source}:{rule.line}[/dim]")
    params = rule.params.model_dump()
    if params:
        console.print("\n[bold]params[/bold]")
        console.print(yaml.safe_dump(params, allow_unicode=True, sort_keys=False).rstrip(), markup=False)
    if rule.example:
        console.print("\n[bold]example[/bold]")
        console.print(rule.example, markup=False)
        _show_example_findings(console, rule, lang)
    return 0


def _show_example_findings(console, rule, lang: str) -> None:
    """Run the rule on its own example, so `show` proves what it flags."""
    from ..documents.load import Document
    from ..pipeline import analyse
    from ..rules.context import AuditContext
    from ..rules.engine import run_rules

    import hashlib

    data = rule.example.encode("utf-8")
    doc = analyse(Document("example", rule.example, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data)))
    for f in run_rules([rule], AuditContext([doc], lang=lang)):
        console.print(f"  → {f.message}", markup=False)


@rules.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> int:
    """Check rule files: YAML syntax, known keys and kinds, parameter types, regexes that compile."""
    from ..rules.loader import load_rules

    rule_set = load_rules(paths, include_defaults=False)
    click.echo(f"ok: {len(rule_set.rules)} rules in {len(rule_set.files)} files")
    return 0
