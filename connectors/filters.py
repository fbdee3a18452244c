"""Pub/Sub subscription filters: parse, validate and evaluate them ourselves.

Production Pub/Sub applies a subscription's filter on the server and rejects a malformed
one when the subscription is created. The local emulator does neither: it stores any
string and delivers every message. So allywatch validates filters with this parser before
sending them (a filter that works locally must not fail in production), and `tail`
evaluates them on the client when talking to the emulator.

The language (attributes only, as documented for Pub/Sub):

    attributes:KEY                    the message has attribute KEY
    attributes.KEY = "value"          KEY is present and equal to "value"
    attributes.KEY != "value"         NOT (attributes.KEY = "value"): also true when KEY is absent
    hasPrefix(attributes.KEY, "p")    KEY is present and its value starts with "p"
    NOT e   or   -e                   negation (binds tightest)
    e AND e AND ...                   conjunction
    e OR e OR ...                     disjunction; AND and OR cannot be mixed at one level
                                      without parentheses
    ( e )                             grouping

KEY is an identifier of letters, digits, `_` and `-` (not starting with `-`), or a
double-quoted string literal for any other key (`attributes:"iana.org/language_tag"`).
Values are always double-quoted string literals with C-style escapes (`\\"`, `\\\\`, `\\n`,
`\\t`, `\\xHH`, `\\uHHHH`, `\\UHHHHHHHH`, octal `\\NNN`, ...). Operators and `hasPrefix` are
case-sensitive. A filter is at most 256 bytes of UTF-8. The empty filter matches
everything.

Where the documentation is silent we choose the stricter reading, so that a filter we
accept is one production accepts: single-quoted strings, non-ASCII outside string literals
and lowercase `and`/`or`/`not` are rejected with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from transforms.alert_attributes import concern_attribute, outlets_attribute, partner_attribute

MAX_FILTER_BYTES = 256
ATTRIBUTES = "attributes"
HAS_PREFIX = "hasPrefix"
KEYWORDS = ("AND", "OR", "NOT")

_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_IDENT_CHARS = _IDENT_START | {"-"}
_SIMPLE_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "`": "`",
    "?": "?",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


class FilterSyntaxError(ValueError):
    """A filter Pub/Sub would reject; says where (0-based character offset) and how to fix it."""

    def __init__(self, message: str, position: int, hint: str = "", text: str = "") -> None:
        self.message = message
        self.position = position
        self.hint = hint
        self.text = text
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"invalid filter: {self.message} (at position {self.position})"]
        if self.text and "\n" not in self.text and len(self.text) <= 300:
            lines.append(f"  {self.text}")
            lines.append("  " + " " * min(self.position, len(self.text)) + "^")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


# --- abstract syntax -----------------------------------------------------------------


class Node:
    """A parsed filter expression; `matches` evaluates it on a message's attributes."""

    def matches(self, attributes: Mapping[str, str]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class MatchAll(Node):
    """The empty filter: every message is delivered."""

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return True


@dataclass(frozen=True)
class Has(Node):
    key: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return self.key in attributes


@dataclass(frozen=True)
class Equals(Node):
    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return attributes.get(self.key) == self.value


@dataclass(frozen=True)
class NotEquals(Node):
    """`!=` is the negation of `=`: a message without the key matches."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return attributes.get(self.key) != self.value


@dataclass(frozen=True)
class HasPrefix(Node):
    key: str
    prefix: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        value = attributes.get(self.key)
        return value is not None and value.startswith(self.prefix)


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return not self.operand.matches(attributes)


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(op.matches(attributes) for op in self.operands)


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return any(op.matches(attributes) for op in self.operands)


@dataclass(frozen=True)
class Filter:
    """A validated filter: its source text and its syntax tree."""

    text: str
    root: Node

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """True when production Pub/Sub would deliver a message with these attributes."""
        return self.root.matches(attributes)

    def __str__(self) -> str:
        return self.text


# --- lexer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # IDENT, STRING, DOT, COLON, EQ, NE, LPAREN, RPAREN, COMMA, MINUS, EOF
    value: str
    position: int


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int, hint: str = "") -> FilterSyntaxError:
        return FilterSyntaxError(message, position, hint, self.text)

    def tokens(self) -> list[_Token]:
        out: list[_Token] = []
        while True:
            token = self._next()
            out.append(token)
            if token.kind == "EOF":
                return out

    def _next(self) -> _Token:
        text = self.text
        while self.pos < len(text) and text[self.pos] in " \t\r\n":
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return _Token("EOF", "", start)
        char = text[start]
        singles = {".": "DOT", ":": "COLON", "=": "EQ", "(": "LPAREN", ")": "RPAREN", ",": "COMMA", "-": "MINUS"}
        if char in singles:
            self.pos += 1
            return _Token(singles[char], char, start)
        if char == "!":
            if text.startswith("!=", start):
                self.pos += 2
                return _Token("NE", "!=", start)
            raise self.error("'!' on its own is not an operator", start, "use NOT or - to negate, != to compare")
        if char == '"':
            return self._string()
        if char == "'":
            raise self.error(
                "single-quoted strings are not accepted", start, 'quote keys and values with double quotes: "value"'
            )
        if char in _IDENT_START:
            while self.pos < len(text) and text[self.pos] in _IDENT_CHARS:
                self.pos += 1
            return _Token("IDENT", text[start : self.pos], start)
        if ord(char) > 127:
            raise self.error(
                f"character {char!r} outside a string literal",
                start,
                'put keys with other characters in a string literal, e.g. attributes:"\\u307F" or attributes:"a.b"',
            )
        if char in "<>":
            raise self.error(
                f"'{char}' is not a Pub/Sub filter operator",
                start,
                "filters compare strings only (=, !=, :, hasPrefix); outlet counts are the "
                "attributes outlets_ge_N, e.g. attributes:outlets_ge_3",
            )
        if char in "&|":
            raise self.error(f"'{char}' is not a Pub/Sub filter operator", start, "use AND / OR (uppercase)")
        raise self.error(f"unexpected character {char!r}", start)

    def _string(self) -> _Token:
        text = self.text
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated string literal", start, 'close the string with a double quote (")')
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return _Token("STRING", "".join(chars), start)
            if char == "\\":
                chars.append(self._escape())
                continue
            if ord(char) < 32 or ord(char) == 127:
                raise self.error(
                    "non-printing character inside a string literal",
                    self.pos,
                    "escape it, e.g. \\n, \\t or \\x07",
                )
            chars.append(char)
            self.pos += 1

    def _escape(self) -> str:
        text = self.text
        start = self.pos
        if start + 1 >= len(text):
            raise self.error("unterminated escape sequence", start, 'close the string with a double quote (")')
        code = text[start + 1]
        if code in _SIMPLE_ESCAPES:
            self.pos += 2
            return _SIMPLE_ESCAPES[code]
        if code in "xXuU":
            width = {"x": 2, "X": 2, "u": 4, "U": 8}[code]
            digits = text[start + 2 : start + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise self.error(
                    f"\\{code} needs exactly {width} hexadecimal digits", start, f"e.g. \\{code}{'0' * (width - 1)}41"
                )
            value = int(digits, 16)
            if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise self.error(f"\\{code}{digits} is not a valid Unicode code point", start)
            self.pos += 2 + width
            return chr(value)
        if code in "0123":
            digits = text[start + 1 : start + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise self.error("octal escapes need exactly 3 octal digits", start, "e.g. \\101 for 'A'")
            self.pos += 4
            return chr(int(digits, 8))
        raise self.error(
            f"unknown escape sequence \\{code}",
            start,
            'valid escapes: \\\\ \\" \\\' \\n \\t \\r \\a \\b \\f \\v \\xHH \\uHHHH \\UHHHHHHHH \\NNN',
        )


# --- parser --------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _Lexer(text).tokens()
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "EOF":
            self.index += 1
        return token

    def error(self, message: str, token: _Token, hint: str = "") -> FilterSyntaxError:
        return FilterSyntaxError(message, token.position, hint, self.text)

    def is_keyword(self, token: _Token, word: str) -> bool:
        return token.kind == "IDENT" and token.value == word

    def describe(self, token: _Token) -> str:
        return "end of filter" if token.kind == "EOF" else repr(token.value)

    def parse(self) -> Node:
        node = self.expression()
        token = self.current
        if token.kind != "EOF":
            if token.kind == "IDENT" and token.value.upper() in KEYWORDS:
                raise self.error(
                    f"{token.value!r} is not an operator", token, f"operators are uppercase: {token.value.upper()}"
                )
            if token.kind == "RPAREN":
                raise self.error("unbalanced ')'", token, "remove it or add the matching '('")
            raise self.error(
                f"expected AND, OR or end of filter, found {self.describe(token)}",
                token,
                "join conditions with AND or OR",
            )
        return node

    def expression(self) -> Node:
        first = self.unary()
        operator: str | None = None
        operands = [first]
        while self.is_keyword(self.current, "AND") or self.is_keyword(self.current, "OR"):
            token = self.advance()
            if operator is None:
                operator = token.value
            elif token.value != operator:
                raise self.error(
                    "AND and OR mixed without parentheses",
                    token,
                    "Pub/Sub requires parentheses to combine them, e.g. a AND (b OR c)",
                )
            operands.append(self.unary())
        if operator is None:
            return first
        return And(tuple(operands)) if operator == "AND" else Or(tuple(operands))

    def unary(self) -> Node:
        token = self.current
        if self.is_keyword(token, "NOT") or token.kind == "MINUS":
            self.advance()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "LPAREN":
            self.advance()
            if self.current.kind == "RPAREN":
                raise self.error("empty parentheses", self.current, "put a condition inside, e.g. (attributes:kind)")
            node = self.expression()
            if self.current.kind != "RPAREN":
                raise self.error(
                    f"expected ')', found {self.describe(self.current)}",
                    self.current,
                    "close every '(' with ')'; inside, join conditions with only AND or only OR",
                )
            self.advance()
            return node
        if token.kind == "IDENT" and token.value == HAS_PREFIX:
            return self.has_prefix()
        if token.kind == "IDENT" and token.value == ATTRIBUTES:
            return self.comparison()
        if token.kind == "IDENT" and token.value.lower() == HAS_PREFIX.lower():
            raise self.error(f"unknown function {token.value!r}", token, "the function is spelled hasPrefix")
        if token.kind == "IDENT" and token.value.upper() in KEYWORDS:
            if token.value in KEYWORDS:
                raise self.error(f"{token.value} needs a condition before it", token, "e.g. attributes:a AND attributes:b")
            raise self.error(
                f"{token.value!r} is not an operator", token, f"operators are uppercase: {token.value.upper()}"
            )
        if token.kind == "EOF":
            raise self.error("filter ends where a condition was expected", token, "complete the expression")
        if token.kind == "STRING":
            raise self.error(
                "a condition must start with attributes, not a value",
                token,
                'write attributes.KEY = "VALUE", not "VALUE" = attributes.KEY',
            )
        if token.kind == "IDENT" and self.tokens[self.index + 1].kind == "LPAREN":
            raise self.error(f"unknown function {token.value!r}", token, "hasPrefix is the only function")
        raise self.error(
            f"expected a condition, found {self.describe(token)}",
            token,
            'conditions are attributes:KEY, attributes.KEY = "V", attributes.KEY != "V" or hasPrefix(attributes.KEY, "P")',
        )

    def adjacent(self, before: _Token, after: _Token) -> None:
        """`attributes.KEY` and `attributes:KEY` are written without spaces."""
        if after.kind != "EOF" and after.position != before.position + len(before.value):
            raise self.error(
                "unexpected space inside an attribute reference", after, "write attributes.KEY or attributes:KEY without spaces"
            )

    def key(self) -> str:
        token = self.current
        if token.kind == "IDENT" and token.value not in KEYWORDS:
            self.advance()
            return token.value
        if token.kind == "STRING":
            if token.value == "":
                raise self.error("attribute key is empty", token, "name the attribute")
            self.advance()
            return token.value
        raise self.error(
            f"expected an attribute key, found {self.describe(token)}",
            token,
            'keys are letters, digits, _ and -; quote any other key: attributes:"a.b"',
        )

    def value(self, operator: str) -> str:
        token = self.current
        if token.kind == "STRING":
            self.advance()
            return token.value
        if token.kind == "IDENT":
            raise self.error(
                f"the value after {operator} must be a double-quoted string", token, f'write "{token.value}"'
            )
        raise self.error(f"expected a double-quoted string after {operator}, found {self.describe(token)}", token)

    def comparison(self) -> Node:
        attributes = self.advance()
        token = self.current
        if token.kind in ("COLON", "DOT"):
            self.adjacent(attributes, token)
        if token.kind == "COLON":
            self.advance()
            self.adjacent(token, self.current)
            return Has(self.key())
        if token.kind != "DOT":
            raise self.error(
                f"expected '.' or ':' after attributes, found {self.describe(token)}",
                token,
                'attributes:KEY tests presence, attributes.KEY = "V" compares',
            )
        self.advance()
        self.adjacent(token, self.current)
        key = self.key()
        operator = self.current
        if operator.kind == "EQ":
            self.advance()
            node: Node = Equals(key, self.value("="))
        elif operator.kind == "NE":
            self.advance()
            node = NotEquals(key, self.value("!="))
        else:
            raise self.error(
                f"expected = or != after attributes.{key}, found {self.describe(operator)}",
                operator,
                f'compare with a value, e.g. attributes.{key} = "true", or test presence with attributes:{key}',
            )
        if self.current.kind in ("EQ", "NE"):
            raise self.error("comparisons cannot be chained", self.current, "join two comparisons with AND")
        return node

    def has_prefix(self) -> Node:
        self.advance()
        if self.current.kind != "LPAREN":
            raise self.error("hasPrefix needs arguments", self.current, 'hasPrefix(attributes.KEY, "PREFIX")')
        self.advance()
        if not self.is_keyword(self.current, ATTRIBUTES) or self.tokens[self.index + 1].kind != "DOT":
            raise self.error(
                "hasPrefix's first argument must be attributes.KEY", self.current, 'hasPrefix(attributes.KEY, "PREFIX")'
            )
        attributes = self.advance()
        dot = self.advance()
        self.adjacent(attributes, dot)
        self.adjacent(dot, self.current)
        key = self.key()
        if self.current.kind != "COMMA":
            raise self.error(
                f"expected ',' in hasPrefix, found {self.describe(self.current)}",
                self.current,
                'hasPrefix(attributes.KEY, "PREFIX")',
            )
        self.advance()
        prefix = self.value("hasPrefix(...,")
        if self.current.kind != "RPAREN":
            raise self.error(
                f"expected ')' closing hasPrefix, found {self.describe(self.current)}",
                self.current,
                "hasPrefix takes exactly two arguments",
            )
        self.advance()
        return HasPrefix(key, prefix)


def parse_filter(text: str) -> Filter:
    """Parse and validate a filter; raises FilterSyntaxError saying where and how to fix it."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILTER_BYTES:
        raise FilterSyntaxError(
            f"filter is {size} bytes, over Pub/Sub's {MAX_FILTER_BYTES}-byte limit",
            len(text.encode("utf-8")[:MAX_FILTER_BYTES].decode("utf-8", "ignore")),
            "select fewer codes or types, or split it into several subscriptions",
            text,
        )
    if text.strip() == "":
        return Filter(text, MatchAll())
    return Filter(text, _Parser(text).parse())


# --- building the filters `allywatch subscribe` sends --------------------------------


def quote(value: str) -> str:
    """A double-quoted string literal for any value."""
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def key_ref(key: str) -> str:
    """A key as written after `attributes.` or `attributes:`: bare when it can be, else quoted."""
    if key and key[0] in _IDENT_START and all(c in _IDENT_CHARS for c in key) and key not in KEYWORDS:
        return key
    return quote(key)


def _any_of(clauses: Sequence[str]) -> str:
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"


def build_filter(
    partners: Iterable[str] = (),
    concerns: Iterable[str] = (),
    types: Iterable[str] = (),
    min_outlets: int | None = None,
    kind: str | None = None,
) -> str:
    """The filter for `allywatch subscribe`: any of each option's values, all options together.

    `--partner JPN --partner USA --type exercise` means "an exercise with Japan or the US as a
    partner". Uses the attributes from `transforms.alert_attributes`. The result is parsed
    before it is returned, so an over-long or otherwise invalid filter raises here.
    """
    groups: list[list[str]] = []
    partner_clauses = [f"attributes:{key_ref(partner_attribute(code))}" for code in dict.fromkeys(partners)]
    concern_clauses = [f"attributes:{key_ref(concern_attribute(code))}" for code in dict.fromkeys(concerns)]
    type_clauses = [f"attributes.type = {quote(t)}" for t in dict.fromkeys(types)]
    for clauses in (partner_clauses, concern_clauses, type_clauses):
        if clauses:
            groups.append(clauses)
    if min_outlets is not None and min_outlets > 1:
        groups.append([f"attributes:{key_ref(outlets_attribute(min_outlets))}"])
    if kind:
        groups.append([f"attributes.kind = {quote(kind)}"])
    if not groups:
        return ""
    if len(groups) == 1:
        text = " OR ".join(groups[0])
    else:
        text = " AND ".join(_any_of(clauses) for clauses in groups)
    parse_filter(text)
    return text
