"""The json format: a versioned document with a summary and every finding."""

from __future__ import annotations

from typing import Any

from spo_gitops import jsonio
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.report.common import TOOL_NAME, Run

FORMAT_VERSION = 1


def finding(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "entity": d.entity,
        "pointer": d.pointer,
        "hint": d.hint,
        "waived": d.waived,
    }


def render(run: Run) -> str:
    c = run.counts()
    doc = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": TOOL_NAME, "version": run.tool_version},
        "summary": {
            "documents": run.documents,
            "files": len(run.files),
            "errors": c["error"],
            "warnings": c["warning"],
            "info": c["info"],
            "waived": c["waived"],
        },
        "findings": [finding(d) for d in run.findings],
    }
    return jsonio.dumps(doc, indent=2) + "\n"
