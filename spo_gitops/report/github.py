"""GitHub Actions workflow commands: one annotation per finding, then the summary line.

::error file=catalog/slas/banking.yaml,line=14,col=7,title=SPO204::message%0Ahint: ...
"""

from __future__ import annotations

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.report.common import Run, full_message, summary

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    """Escape a command's message, as the Actions runner's ``escapeData`` does."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value, as the Actions runner's ``escapeProperty`` does."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic, prefix: str = "") -> str:
    """One workflow command; ``prefix`` (the project's folder in the repository) makes the file
    repository-relative, as the runner resolves annotation paths."""
    command = "notice" if d.waived is not None else _COMMANDS[d.severity]
    props: list[tuple[str, object]] = []
    if d.file is not None:
        props.append(("file", f"{prefix.strip('/')}/{d.file}" if prefix else d.file))
        if d.line is not None:
            props.append(("line", d.line))
            if d.column is not None:
                props.append(("col", d.column))
    props.append(("title", d.code))
    message = full_message(d)
    if d.waived is not None:
        message += f"\nwaived: {d.waived}"
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in props)
    return f"::{command} {rendered}::{escape_data(message)}"


def render(run: Run) -> str:
    lines = [annotation(d, run.prefix) for d in run.findings]
    lines.append(summary(run))
    return "\n".join(lines) + "\n"
