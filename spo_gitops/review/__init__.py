"""The review pipeline of a pull request: the semantic diff between two revisions, versioning,
lifecycle and impact rules, changed-only validation, CODEOWNERS and scaffolded proposals."""
