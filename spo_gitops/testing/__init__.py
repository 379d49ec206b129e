"""Testing helpers for provider authors: the provider conformance kit.

``from spo_gitops.testing import Case, check_provider`` and call ``check_provider(provider,
[Case(...)])`` from a test of your own; it raises :class:`ConformanceError` (an AssertionError)
naming the rule a provider broke. See docs/providers.md.
"""

from __future__ import annotations

from spo_gitops.testing.conformance import (
    CHECKS,
    Case,
    ConformanceError,
    FlakyProvider,
    check_provider,
    check_schemas,
)

__all__ = ["CHECKS", "Case", "ConformanceError", "FlakyProvider", "check_provider", "check_schemas"]
