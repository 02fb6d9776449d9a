"""Splitting a simple-Query string into statements, and spotting utility statements.

Owns: a scanner that knows Postgres's lexical rules well enough to find top-level `;`
(quotes with '' escapes, E'' strings with backslashes, "identifiers", $tag$ dollar quotes$tag$,
-- and nested /* */ comments), and `leading_words`, used to route utility statements (BEGIN,
SET, SHOW, EXPLAIN, ...) before sqlglot sees them.

Must not: parse expressions (that is sqlglot's job, in `dialect`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


@dataclass(frozen=True, slots=True)
class Statement:
    text: str  # the statement without its terminating ';'
    offset: int  # 0-based offset of `text` in the original query string


def split_statements(sql: str) -> list[Statement]:
    """Top-level statements of `sql`; empty ones (`;;`, comments only) are dropped."""
    out: list[Statement] = []
    start = 0
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            escape = i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
            i += 1
            while i < n:
                if escape and sql[i] == "\\":
                    i += 2
                    continue
                if sql[i] == "'":
                    if i + 1 < n and sql[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
        elif c == '"':
            i += 1
            while i < n and not (sql[i] == '"' and not (i + 1 < n and sql[i + 1] == '"')):
                i += 2 if sql[i] == '"' else 1
        elif c == "-" and sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl
        elif c == "/" and sql.startswith("/*", i):
            depth = 1
            i += 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth += 1
                    i += 2
                elif sql.startswith("*/", i):
                    depth -= 1
                    i += 2
                else:
                    i += 1
            continue
        elif c == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            m = _DOLLAR_TAG.match(sql, i)
            if m:
                end = sql.find(m.group(0), m.end())
                i = n if end < 0 else end + len(m.group(0))
                continue
        elif c == ";":
            _add(out, sql, start, i)
            start = i + 1
        i += 1
    _add(out, sql, start, n)
    return out


def _add(out: list[Statement], sql: str, start: int, end: int) -> None:
    text = sql[start:end]
    if strip_comments(text).strip():
        lead = len(text) - len(text.lstrip())
        out.append(Statement(text.strip(), start + lead))


def strip_comments(sql: str) -> str:
    """`sql` with leading comments removed (enough to classify a statement)."""
    s = sql.lstrip()
    while True:
        if s.startswith("--"):
            nl = s.find("\n")
            s = "" if nl < 0 else s[nl + 1 :].lstrip()
        elif s.startswith("/*"):
            end = s.find("*/")
            s = "" if end < 0 else s[end + 2 :].lstrip()
        else:
            return s


def leading_words(sql: str, count: int = 3) -> list[str]:
    """The first `count` bare words of a statement, upper-cased (comments skipped)."""
    s = strip_comments(sql)
    words: list[str] = []
    pos = 0
    while len(words) < count:
        while pos < len(s) and s[pos].isspace():
            pos += 1
        m = _WORD.match(s, pos)
        if not m:
            break
        words.append(m.group(0).upper())
        pos = m.end()
    return words
