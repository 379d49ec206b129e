"""spo-gitops: the service portfolio as versioned, validated YAML in git."""

from __future__ import annotations

__version__ = "0.1.0"
API_VERSION = "spo/v1"
