"""YAML 1.2 on libyaml: compose the node graph in C, build plain data in Python, keep positions.

PyYAML's own loaders follow YAML 1.1 (``on`` is a boolean, ``010`` is octal, the last of two
duplicate keys silently wins) and construct arbitrary Python objects for ``!!python/`` tags. This
module composes with libyaml (positions on every node) and builds the data itself: a YAML 1.2 core
schema resolver, duplicate keys refused, only the standard tags accepted (none is ever executed),
alias and merge expansion bounded, nesting depth bounded.

Catalog files read from disk take a faster path first (:func:`_plain_documents`): a file in the
plain subset of YAML that catalog files are written in (one document, no tags, anchors, aliases,
merge keys, directives or tabs, no number spelling on which parsers disagree) is parsed by yaml-rs
straight into Python data, about eight times faster than composing nodes, and its positions are
recovered by composing the file again only when a finding needs one. Anything outside that
subset, and anything yaml-rs refuses or builds differently (keys that are not strings, numbers
with no JSON form, nesting beyond the limit), takes the libyaml path above, which gives every
diagnostic with its place."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.fsutil import read_limited

try:
    import yaml_rs
except ImportError:  # pragma: no cover - the libyaml path gives the same results, slower
    yaml_rs = None  # type: ignore[assignment]

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"
_ALLOWED_TAGS = {STR, INT, FLOAT, BOOL, NULL, MAP, SEQ, MERGE}

_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NUMERIC_START = set("0123456789-+.")


class _Resolver12(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema for plain scalars; quoted scalars are always strings."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return STR
            if value in _NULLS:
                return NULL
            if value in _BOOLS:
                return BOOL
            if value and value[0] in _NUMERIC_START:
                if _INT_RE.fullmatch(value):
                    return INT
                if _FLOAT_RE.fullmatch(value):
                    return FLOAT
            if value == "<<":
                return MERGE
            return STR
        if kind is yaml.SequenceNode:
            return SEQ
        return MAP


try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]

    HAVE_LIBYAML = True
except ImportError:  # PyYAML built without libyaml: same results, about 10x slower
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    HAVE_LIBYAML = False


class _Composer(_Parser, _Resolver12):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Resolver12.__init__(self)


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 1024 * 1024
    max_depth: int = 64
    max_alias_expansion: int = 10_000


@dataclass
class RawDocument:
    """One YAML document: its data, its root node (for positions) and where it starts."""

    index: int
    line: int
    data: Any
    node: yaml.Node | None
    broken: bool = False  # loading failed part-way: data is incomplete


@dataclass
class ParsedFile:
    path: str
    documents: list[RawDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # SHA-256 of the bytes parsed, for a file read whole (read_file): what the validation of
    # this file is a validation of (provision/scope.py keys its record by it)
    digest: bytes | None = None


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _flow_depth_suspect(text: str) -> bool:
    """True when the text could nest deeper than libyaml's recursive composer copes with.

    Block nesting costs indentation (a 1 MiB file cannot nest blocks more than ~1,500 deep); flow
    collections and compact sequences cost one or two characters a level, so only they need a check.
    """
    return text.count("[") + text.count("{") + text.count("- ") > 2_000


def _event_depth_check(text: str, path: str, limit: int) -> Diagnostic | None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    return _too_deep(path, line, col, limit)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as e:
        if _libyaml_too_deep(e):
            line, col = _mark_pos(e)
            return _too_deep(path, line, col, limit)
        return None  # the composer reports syntax errors with their place
    except yaml.YAMLError:
        return None
    return None


def _libyaml_too_deep(e: yaml.MarkedYAMLError) -> bool:
    # libyaml (PyYAML >= 6.0.3) stops at its own nesting limit of 1,000 levels; its scanner
    # looks ahead for simple keys, so it can get there before any event reaches us.
    return "maximum nesting depth" in (e.problem or "")


def _mark_pos(e: yaml.MarkedYAMLError) -> tuple[int, int]:
    mark = e.problem_mark or e.context_mark
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _too_deep(path: str, line: int, col: int, limit: int) -> Diagnostic:
    return Diagnostic(
        "error",
        "SPO109",
        f"nesting deeper than {limit} levels",
        path,
        line,
        col,
        hint="catalog documents are shallow; raise limits.maxDepth in spo.yaml if this is meant",
    )


class _Builder:
    """Turns a composed node into plain JSON-like data, collecting findings on the way."""

    def __init__(self, path: str, limits: Limits, out: list[Diagnostic]) -> None:
        self.path = path
        self.limits = limits
        self.out = out
        self.seen: set[int] = set()
        self.expanded = 0
        self.site: yaml.Node | None = None  # last node built outside any alias expansion

    def diag(self, code: str, message: str, node: yaml.Node, hint: str | None = None) -> None:
        line, col = _pos(node)
        self.out.append(Diagnostic("error", code, message, self.path, line, col, hint=hint))

    def build(self, node: yaml.Node, depth: int = 1, aliased: bool = False) -> Any:
        """``depth`` counts collections: a document whose root mapping holds scalars has 1."""
        if depth > self.limits.max_depth and not isinstance(node, yaml.ScalarNode):
            line, col = _pos(node)
            raise _Abort(_too_deep(self.path, line, col, self.limits.max_depth))
        key = id(node)
        if key in self.seen:
            aliased = True
        else:
            self.seen.add(key)
        if not aliased:
            self.site = node
        else:
            self.expanded += 1
            if self.expanded > self.limits.max_alias_expansion:
                line, col = _pos(self.site or node)
                raise _Abort(
                    Diagnostic(
                        "error",
                        "SPO108",
                        f"aliases expand to more than {self.limits.max_alias_expansion} nodes",
                        self.path,
                        line,
                        col,
                        hint="write the repeated structure out, or split the document",
                    )
                )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if node.tag not in (MAP, SEQ):
            self.forbidden_tag(node)
            return None
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, depth + 1, aliased) for child in node.value]
        assert isinstance(node, yaml.MappingNode)
        return self.mapping(node, depth, aliased)

    def forbidden_tag(self, node: yaml.Node) -> None:
        self.diag(
            "SPO107",
            f"tag {node.tag!r} is not allowed",
            node,
            hint="catalog files are plain data: only the standard YAML tags are accepted and "
            "nothing is ever executed or included",
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == STR:
            return value
        # An explicit tag (!!int, !!float, ...) takes the same YAML 1.2 core forms as a plain
        # scalar: Python's int() and float() would also take '1_000', ' 12 ', non-ASCII digits
        # and 'nan'.
        try:
            if tag == INT:
                if not _INT_RE.fullmatch(value):
                    raise ValueError(value)
                if value.startswith("0o"):
                    return int(value[2:], 8)
                if value.startswith("0x"):
                    return int(value[2:], 16)
                return int(value)
            if tag == FLOAT:
                if not (_FLOAT_RE.fullmatch(value) or _INT_RE.fullmatch(value)):
                    raise ValueError(value)
                special = value.lstrip("+-").lower() in (".inf", ".nan")
                number = math.inf if special else float(value)
                if special or math.isinf(number) or math.isnan(number):
                    self.diag("SPO113", f"{value!r} has no JSON representation", node)
                    return None
                return number
            if tag == BOOL:
                return _BOOLS[value]
            if tag == NULL:
                if value not in _NULLS:
                    raise ValueError(value)
                return None
        except (ValueError, KeyError):
            self.diag("SPO101", f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}", node)
            return None
        self.forbidden_tag(node)
        return None

    def key(self, node: yaml.ScalarNode) -> str | None:
        """A mapping key as the JSON object key it becomes: 1 and 0x1 are both "1", true and
        True both "true" (so that they are seen as duplicates, as YAML 1.2 says they are)."""
        if node.tag == STR:
            return str(node.value)
        value = self.scalar(node)
        if isinstance(value, bool):
            return "true" if value else "false"
        return None if value is None else str(value)

    def mapping(self, node: yaml.MappingNode, depth: int, aliased: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_lines: dict[str, tuple[int, str]] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in (STR, INT, BOOL):
                self.diag(
                    "SPO111",
                    "mapping keys must be strings",
                    key_node,
                    hint="quote the key, or restructure the mapping",
                )
                continue
            key = self.key(key_node)
            if key is None:
                continue  # not a valid int or bool: reported by scalar()
            if key in key_lines:
                first_line, first_text = key_lines[key]
                same = "" if first_text == key_node.value else f", written {first_text!r}"
                self.diag(
                    "SPO103",
                    f"duplicate key {key_node.value!r} (first defined at line {first_line}{same})",
                    key_node,
                    hint="remove one of them: YAML 1.2 forbids duplicate keys",
                )
                continue
            key_lines[key] = (key_node.start_mark.line + 1, str(key_node.value))
            result[key] = self.build(value_node, depth + 1, aliased)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                merged = self.build(source, depth + 1, True)
                if not isinstance(merged, dict):
                    self.diag(
                        "SPO101", "a merge key (<<) takes a mapping or a list of them", source
                    )
                    continue
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result


def _composed(composer: _Composer) -> Iterator[yaml.Node | None]:
    while composer.check_node():
        yield composer.get_node()


def _take_documents(nodes: Iterator[yaml.Node | None], parsed: ParsedFile, limits: Limits) -> None:
    """Build each composed document into data, appending it (and findings) to ``parsed``."""
    out, path = parsed.diagnostics, parsed.path
    for doc_index, node in enumerate(nodes):
        if node is None:
            continue
        builder = _Builder(path, limits, out)
        line = node.start_mark.line + 1
        try:
            data = builder.build(node)
        except _Abort as abort:
            out.append(abort.diagnostic)
            parsed.documents.append(RawDocument(doc_index, line, None, node, broken=True))
            continue
        if data is None and isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            continue  # an empty document (a trailing '---'): nothing to check
        if not isinstance(data, dict):
            found = type(data).__name__ if data is not None else "null"
            found = {"list": "a sequence", "str": "a string"}.get(found, found)
            builder.diag(
                "SPO106",
                f"document is {found}, not a mapping",
                node,
                hint="each document starts with 'apiVersion:' and 'kind:'",
            )
            parsed.documents.append(RawDocument(doc_index, line, None, node, broken=True))
            continue
        parsed.documents.append(RawDocument(doc_index, line, data, node))


def _tab_fallback(text: str, e: yaml.MarkedYAMLError) -> list[yaml.Node | None] | None:
    """libyaml refuses a tab that starts the content of a block scalar line (``foo: |`` then
    `` \tbar``), which YAML 1.2 allows. Only when libyaml stops at a tab, the text is composed
    again by ruamel.yaml's YAML 1.2 parser (pure Python, slower); its nodes are rebuilt as
    PyYAML nodes, with our resolver for plain scalars. None when ruamel refuses it too."""
    mark = e.problem_mark or e.context_mark
    if mark is None or not (0 <= mark.index < len(text)) or "\t" not in text:
        return None
    if text[mark.index] != "\t" and "\t" not in text[max(0, mark.index - 2) : mark.index + 1]:
        return None
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError as RuamelError

        composer = YAML(typ="safe", pure=True)
        roots = list(composer.compose_all(text))
    except ImportError:
        return None
    except (RuamelError, ValueError, RecursionError):
        return None
    converted: dict[int, yaml.Node] = {}
    return [None if r is None else _from_ruamel(r, converted) for r in roots]


_RESOLVER = _Resolver12()


def _from_ruamel(node: Any, seen: dict[int, yaml.Node]) -> yaml.Node:
    hit = seen.get(id(node))
    if hit is not None:
        return hit  # an alias: the same node, as PyYAML's composer gives it
    start = yaml.Mark(
        "", node.start_mark.index, node.start_mark.line, node.start_mark.column, None, 0
    )
    end = yaml.Mark("", node.end_mark.index, node.end_mark.line, node.end_mark.column, None, 0)
    tag = str(getattr(node.tag, "value", node.tag))
    out: yaml.Node
    kind = type(node).__name__
    if kind == "ScalarNode":
        if node.style is None and tag.startswith(_TAG):
            tag = _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False))
        out = yaml.ScalarNode(tag, node.value, start, end, node.style)
    elif kind == "MappingNode":
        out = yaml.MappingNode(tag, [], start, end)
        seen[id(node)] = out
        out.value = [(_from_ruamel(k, seen), _from_ruamel(v, seen)) for k, v in node.value]
    else:
        out = yaml.SequenceNode(tag, [], start, end)
        seen[id(node)] = out
        out.value = [_from_ruamel(v, seen) for v in node.value]
    seen[id(node)] = out
    return out


def parse_text(text: str, path: str, limits: Limits) -> ParsedFile:
    """Parse already-decoded text into documents. Never raises on bad input."""
    parsed = ParsedFile(path)
    out = parsed.diagnostics
    if _flow_depth_suspect(text):
        deep = _event_depth_check(text, path, limits.max_depth)
        if deep is not None:
            out.append(deep)
            return parsed
    composer = _Composer(text)
    try:
        _take_documents(_composed(composer), parsed, limits)
    except yaml.MarkedYAMLError as e:
        nodes = _tab_fallback(text, e)
        if nodes is None:
            out.append(_syntax_diagnostic(e, text, path, limits.max_depth))
        else:
            parsed = ParsedFile(path)
            _take_documents(iter(nodes), parsed, limits)
    except yaml.reader.ReaderError as e:  # carries a character offset, not a mark
        offset = max(0, min(int(e.position), len(text)))
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or " ")
        out.append(
            Diagnostic(
                "error",
                "SPO101",
                f"control character U+{char:04X} is not allowed in YAML",
                path,
                line,
                col,
                hint="remove the character, or write it as an escape in a double-quoted string",
            )
        )
    except yaml.YAMLError as e:
        out.append(Diagnostic("error", "SPO101", str(e).splitlines()[0], path, 1, 1))
    finally:
        composer.dispose()
    return parsed


def _syntax_diagnostic(e: yaml.MarkedYAMLError, text: str, path: str, limit: int) -> Diagnostic:
    if _libyaml_too_deep(e):
        return _too_deep(path, *_mark_pos(e), limit)
    mark = e.problem_mark or e.context_mark
    problem = e.problem or "invalid YAML"
    context = e.context
    if "end of stream" in problem and e.context_mark is not None and e.context:
        # an unterminated construct: point where it starts, not at the end of the file
        mark = e.context_mark
        context = f"{e.context} that starts here"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return Diagnostic(
            "error",
            "SPO102",
            "tab character where YAML expects indentation or a value",
            path,
            line,
            col,
            hint="YAML indents with spaces only: replace the tab with spaces",
        )
    message = f"{problem} ({context})" if context else problem
    return Diagnostic("error", "SPO101", message, path, line, col, hint=_syntax_hint(problem))


def _syntax_hint(problem: str) -> str | None:
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted"
    if "could not find expected ':'" in problem:
        return "check the indentation of this key and the line before it"
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using the alias (*name)"
    return None


def decode(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Bytes to text, refusing NUL bytes and invalid UTF-8 with their place."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        col = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        return None, Diagnostic(
            "error",
            "SPO105",
            "NUL byte in file",
            path,
            line,
            col,
            hint="catalog files are UTF-8 text; is this a binary or a UTF-16 file?",
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, Diagnostic(
            "error",
            "SPO104",
            f"invalid UTF-8 byte 0x{data[e.start]:02x}",
            path,
            line,
            col,
            hint="save the file as UTF-8",
        )


def read_file(
    fs_path: str, display: str, limits: Limits, *, plain: bool = False
) -> tuple[ParsedFile, str | None]:
    """Read, check and parse one file. Returns the parse and the decoded text (None on failure).

    ``plain=True`` tries :func:`_plain_documents` first: its documents carry no node, and their
    positions come from composing ``fs_path`` again (``Document.position``)."""
    try:
        data = read_limited(fs_path, limits.max_file_size)
    except OSError as e:
        parsed = ParsedFile(display)
        parsed.diagnostics.append(
            Diagnostic("error", "SPO100", f"cannot read file: {e.strerror or e}", display)
        )
        return parsed, None
    if len(data) > limits.max_file_size:
        parsed = ParsedFile(display)
        parsed.diagnostics.append(
            Diagnostic(
                "error",
                "SPO110",
                f"file is larger than {limits.max_file_size} bytes",
                display,
                1,
                1,
                hint="split it into several files, or raise limits.maxFileSize in spo.yaml",
            )
        )
        return parsed, None
    digest = hashlib.sha256(data).digest()
    text, problem = decode(data, display)
    if text is None:
        parsed = ParsedFile(display, digest=digest)
        if problem is not None:
            parsed.diagnostics.append(problem)
        return parsed, None
    parsed = (
        parse_plain_first(text, display, limits) if plain else parse_text(text, display, limits)
    )
    parsed.digest = digest
    return parsed, text


def parse_plain_first(text: str, path: str, limits: Limits) -> ParsedFile:
    """:func:`parse_text`, through the plain path when the text allows it (its documents then
    have no node: their positions come from composing the text again)."""
    documents = _plain_documents(text, limits)
    if documents is None:
        return parse_text(text, path, limits)
    parsed = ParsedFile(path)
    parsed.documents.extend(
        RawDocument(index, line, data, None) for index, (line, data) in enumerate(documents)
    )
    return parsed


# The plain subset (see the module docstring). Outside it, yaml-rs and this module's YAML 1.2
# core schema part ways (measured on the official YAML test suite, mutated catalog files and
# every number spelling in tests/unit/test_plain_path.py): yaml-rs reads 1_000, 0b101, 0X1F,
# +0x1 and -0o7 as numbers, expands aliases and ignores tags, accepts implicit keys over two
# lines in flow collections and plain scalars starting with an indicator; libyaml refuses
# control characters. Each check below sends a file to the libyaml path; together they cost
# about 0.2 s for 10,000 files (most are substring tests or regular expressions that start
# with a literal character).
_PLAIN_NEVER = ("<<", "0b", "0B", "0X", "\n...", "\n%")
# an anchor, alias or tag where a node starts: after the indentation, "key: ", "- ", "? " or a
# flow indicator ("a && b" inside a value is text)
_NODE_PROPERTY = re.compile(r"(?:^[ ]*|:[ ]*|[-?][ ]+|[\[\{,][ ]*)[&*!]", re.M)
_NUMBER_UNDERSCORE = re.compile(r"_(?:(?=[0-9])|(?<=[0-9]_))")
_SIGNED_RADIX = re.compile(r"[+-]0[xo]")
# a document start marker on a line of its own (a comment may follow)
_DOCUMENT_START = re.compile(r"^---(?=[ \r\n]|\Z)[^\n]*", re.M)
_BARE_MARKER = re.compile(r"---[ \r]*(?:#[^\n]*)?")
_QUOTED = re.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"")
_GLUED_COLON = re.compile(r":(?! )")


def _flow_outside_subset(text: str) -> bool:
    """True when a flow collection may continue on a later line, or holds a colon glued to the
    text after it: yaml-rs accepts implicit keys that run over two lines there
    (``{na\n me: x}``), which YAML forbids, and reads ``{date:? x}`` otherwise than libyaml. A
    line that opens more brackets than it closes, or with a glued colon (quoted strings and
    comments left out), sends the file to libyaml."""
    pos, size = 0, len(text)
    while pos < size:
        found = [i for i in (text.find("[", pos), text.find("{", pos)) if i >= 0]
        if not found:
            return False
        at = min(found)
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = size if end < 0 else end
        line = _QUOTED.sub("", text[start:end])
        line = "" if line.lstrip().startswith("#") else line.split(" #", 1)[0]
        if line.count("[") + line.count("{") != line.count("]") + line.count("}"):
            return True
        if ":" in line and _GLUED_COLON.search(line):
            return True
        pos = end + 1
    return False


# one scan for what ends the plain path at once (tabs, control characters libyaml refuses) and
# for the indicators that may not start a plain scalar (checked in their context)
_SPECIAL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff>|%@`?]")
_INDICATORS = frozenset(">|%@`?")
_BLOCK_HEADER = re.compile(r"[-+0-9]*[ ]*(?:#[^\n]*)?\r?(?:\n|$)")


def _special_characters(text: str) -> bool:
    """True for a tab or a control character anywhere, or for ``>``, ``|``, ``%``, ``@``, a
    backquote or ``?`` starting a node other than as a block scalar header (``key: >-``): YAML
    forbids a plain scalar starting so (``{a: >b}``), yaml-rs reads some of them as text, and
    explicit keys (``? key``) are left to libyaml."""
    for hit in _SPECIAL.finditer(text):
        char, at = hit.group(), hit.start()
        if char not in _INDICATORS:
            return True
        before = text[text.rfind("\n", 0, at) + 1 : at].rstrip(" ")
        if before and before[-1] not in ":-?[{," and not before.endswith("---"):
            continue  # inside a scalar: text
        if char in "|>" and _BLOCK_HEADER.match(text, at + 1):
            continue
        return True
    return False


def _plain_subset(text: str) -> bool:
    if any(marker in text for marker in _PLAIN_NEVER) or text.startswith(("...", "%")):
        return False
    if ("&" in text or "*" in text or "!" in text) and _NODE_PROPERTY.search(text):
        return False
    if "_" in text and _NUMBER_UNDERSCORE.search(text):
        return False
    if ("0x" in text or "0o" in text) and _SIGNED_RADIX.search(text):
        return False
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return False  # a lone CR breaks lines for YAML, not for the line count here
    tail = text[text.rfind("\n") + 1 :]
    if tail and not tail.strip(" \r"):
        return False  # spaces after the last line break: libyaml keeps fewer in a literal
    if _special_characters(text):
        return False
    return not (("[" in text or "{" in text) and _flow_outside_subset(text))


def _chunks(text: str) -> list[tuple[int, str]] | None:
    """The documents of ``text`` as (first line, text) pieces, split at bare ``---`` lines; None
    when a marker carries content or a document is empty (libyaml's null document)."""
    if "---" not in text:
        return [(1, text)]
    pieces: list[tuple[int, str]] = []
    start, line = 0, 1
    for marker in _DOCUMENT_START.finditer(text):
        if not _BARE_MARKER.fullmatch(marker.group()):
            return None
        pieces.append((line, text[start : marker.start()]))
        line += text.count("\n", start, marker.end())
        start = marker.end()
    pieces.append((line, text[start:]))
    if not _CONTENT.search(pieces[0][1]):
        pieces.pop(0)  # comments before the first '---': not a document
    return pieces


_LEAVES = frozenset({str, bool, type(None)})
_STRING = frozenset({str})
_BIG = 2**63  # integers beyond go to libyaml (which refuses those of over 4,300 digits)


def _json_shaped(value: dict[str, Any] | list[Any], depth: int, limit: int) -> bool:
    """String keys, finite numbers, integers within 64 bits, at most ``limit`` levels."""
    if depth > limit:
        return False
    if type(value) is dict:
        if not _STRING.issuperset(map(type, value)):
            return False
        children: Any = value.values()
    else:
        children = value
    if _LEAVES.issuperset(map(type, children)):
        return True
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            if not _json_shaped(child, depth + 1, limit):
                return False
        elif kind is float:
            if not math.isfinite(child):
                return False
        elif kind is int:
            if not -_BIG < child < _BIG:
                return False
        elif kind not in _LEAVES:
            return False
    return True


def _plain_documents(text: str, limits: Limits) -> list[tuple[int, dict[str, Any]]] | None:
    """(first line, data) of each document in the plain subset, as the libyaml path builds them;
    None when the text must take that path (outside the subset, or anything yaml-rs refuses)."""
    if yaml_rs is None or _flow_depth_suspect(text) or not _plain_subset(text):
        return None
    pieces = _chunks(text)
    if not pieces:
        return None
    out = []
    for line, piece in pieces:
        first = _CONTENT.search(piece)
        if first is None:
            return None
        try:
            data = yaml_rs.loads(
                piece, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error
            )
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a refusal, or a panic in the Rust code (pyo3's
            # PanicException is a BaseException): the libyaml path reports it with its place
            return None
        if type(data) is not dict or not _json_shaped(data, 1, limits.max_depth):
            return None
        out.append((line + piece.count("\n", 0, first.start()), data))
    return out


_CONTENT = re.compile(r"^[ \r]*[^ \r\n#]", re.M)  # the first token of a document


def load_values(text: str, path: str, limits: Limits) -> tuple[list[Any], list[Diagnostic]]:
    """Every document's value, whatever its type (for generated YAML such as blueprint output)."""
    out: list[Diagnostic] = []
    values: list[Any] = []

    def take(nodes: Iterator[yaml.Node | None]) -> None:
        for node in nodes:
            if node is None:
                continue
            try:
                values.append(_Builder(path, limits, out).build(node))
            except _Abort as abort:
                out.append(abort.diagnostic)

    composer = _Composer(text)
    try:
        take(_composed(composer))
    except yaml.MarkedYAMLError as e:
        nodes = _tab_fallback(text, e)
        if nodes is None:
            out.append(_syntax_diagnostic(e, text, path, limits.max_depth))
        else:
            out.clear()
            values.clear()
            take(iter(nodes))
    except yaml.YAMLError as e:
        out.append(Diagnostic("error", "SPO101", str(e).splitlines()[0], path, 1, 1))
    finally:
        composer.dispose()
    return values, out


def compose_documents(text: str) -> list[yaml.Node | None]:
    """Root nodes of every document, in order (positions for documents built in a worker)."""
    composer = _Composer(text)
    nodes: list[yaml.Node | None] = []
    try:
        while composer.check_node():
            nodes.append(composer.get_node())
    except yaml.YAMLError:
        pass
    finally:
        composer.dispose()
    return nodes


def locate(
    node: yaml.Node | None, parts: list[str], *, key: bool = False
) -> tuple[int, int] | None:
    """Line and column of the value at ``parts`` below ``node`` (of its key, with ``key=True``).

    Walks as far as the path exists and returns the deepest position found.
    """
    if node is None:
        return None
    best: tuple[int, int] = _pos(node)
    current = node
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    best = _pos(key_node) if (key and last) else _pos(value_node)
                    current = value_node
                    break
            else:
                return best
        elif isinstance(current, yaml.SequenceNode):
            if not part.isdigit() or int(part) >= len(current.value):
                return best
            current = current.value[int(part)]
            best = _pos(current)
        else:
            return best
    return best
