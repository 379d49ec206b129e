"""Redaction by key and by value: hand-written expectations."""

from __future__ import annotations

from spo_gitops.redaction import REDACTED, Secrets, redact, remember, scrub, secret_values


def test_by_key_replaces_only_the_named_properties() -> None:
    assert redact({"url": "https://x", "token": "abcd"}, {"token"}) == {
        "url": "https://x",
        "token": REDACTED,
    }


def test_secret_values_are_every_leaf_of_a_sensitive_property() -> None:
    props = {"auth": {"user": "admin", "keys": ["k-1234", "k-5678"]}, "pin": 98765, "x": "open"}
    assert secret_values(props, {"auth", "pin"}) == {"admin", "k-1234", "k-5678", "98765"}


def test_by_value_in_text_and_nested_data() -> None:
    secrets = Secrets(["s3cr3t-abc", "s3cr3t-abc-longer"])
    assert secrets.text("got s3cr3t-abc-longer and s3cr3t-abc") == (
        f"got {REDACTED} and {REDACTED}"
    )
    data = {"a": ["x s3cr3t-abc y", 1], "b": ("s3cr3t-abc",), "c": None, "d": True}
    assert secrets.data(data) == {
        "a": [f"x {REDACTED} y", 1],
        "b": (REDACTED,),
        "c": None,
        "d": True,
    }


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Secrets(["ab", "abc"]).text("abc abd") == "abc abd"


def test_scrub_removes_every_value_this_process_has_seen() -> None:
    remember(["tok-0a1b2c3d"])
    assert (
        scrub("Traceback ... Authorization: tok-0a1b2c3d")
        == f"Traceback ... Authorization: {REDACTED}"
    )
