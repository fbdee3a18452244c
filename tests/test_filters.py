"""The Pub/Sub filter language, evaluated by our own code (the emulator does not filter)."""

from __future__ import annotations

import pytest

from connectors.filters import MAX_FILTER_BYTES, FilterSyntaxError, build_filter, key_ref, parse_filter, quote

JPN_EXERCISE = {"type": "exercise", "kind": "new", "partner_JPN": "true", "partner_USA": "true", "outlets_ge_2": "true"}
GBR_ARMS = {"type": "arms_transfer", "kind": "update", "partner_GBR": "true", "partner_SAU": "true"}
DOTTED = {"iana.org/language_tag": "en", "domain": "com", 'quo"te': "a\\b", "ce-type": "dev.x.bar", "é": "ü"}
EMPTY: dict[str, str] = {}

# (filter, attributes, expected match)
MATCH_TABLE = [
    # empty filter: everything
    ("", JPN_EXERCISE, True),
    ("   ", EMPTY, True),
    # `:` presence
    ("attributes:partner_JPN", JPN_EXERCISE, True),
    ("attributes:partner_JPN", GBR_ARMS, False),
    ("attributes:partner_JPN", EMPTY, False),
    ('attributes:"iana.org/language_tag"', DOTTED, True),
    ('attributes:"iana.org/language_tag"', JPN_EXERCISE, False),
    # `=` equality, case-sensitive, exact
    ('attributes.type = "exercise"', JPN_EXERCISE, True),
    ('attributes.type = "Exercise"', JPN_EXERCISE, False),
    ('attributes.type = "exer"', JPN_EXERCISE, False),
    ('attributes.type="exercise"', JPN_EXERCISE, True),
    ('attributes.type = "exercise"', EMPTY, False),
    ('attributes.ce-type = "dev.x.bar"', DOTTED, True),
    # `!=` is NOT `=`: a message without the key matches
    ('attributes.kind != "new"', JPN_EXERCISE, False),
    ('attributes.kind != "new"', GBR_ARMS, True),
    ('attributes.kind != "new"', EMPTY, True),
    # hasPrefix
    ('hasPrefix(attributes.type, "exer")', JPN_EXERCISE, True),
    ('hasPrefix(attributes.type, "")', JPN_EXERCISE, True),
    ('hasPrefix(attributes.type, "arms")', JPN_EXERCISE, False),
    ('hasPrefix(attributes.type, "")', EMPTY, False),
    ('hasPrefix( attributes."ce-type" , "dev.x" )', DOTTED, True),
    # NOT and unary minus
    ("NOT attributes:partner_JPN", JPN_EXERCISE, False),
    ("NOT attributes:partner_JPN", GBR_ARMS, True),
    ("-attributes:partner_JPN", GBR_ARMS, True),
    ("- attributes:partner_JPN", JPN_EXERCISE, False),
    ("NOT NOT attributes:partner_JPN", JPN_EXERCISE, True),
    ('NOT hasPrefix(attributes.type, "arms")', EMPTY, True),
    # NOT binds tighter than AND / OR
    ('NOT attributes:partner_JPN AND attributes.type = "arms_transfer"', GBR_ARMS, True),
    ('NOT attributes:partner_GBR OR attributes.type = "arms_transfer"', GBR_ARMS, True),
    ('NOT (attributes:partner_GBR OR attributes.type = "arms_transfer")', GBR_ARMS, False),
    # AND / OR chains
    ('attributes:partner_JPN AND attributes.type = "exercise" AND attributes:outlets_ge_2', JPN_EXERCISE, True),
    ('attributes:partner_JPN AND attributes.type = "exercise" AND attributes:outlets_ge_3', JPN_EXERCISE, False),
    ("attributes:partner_JPN OR attributes:partner_GBR OR attributes:partner_FRA", GBR_ARMS, True),
    ("attributes:partner_CHN OR attributes:partner_FRA", GBR_ARMS, False),
    # parentheses
    ('attributes:partner_SAU AND (attributes.type = "exercise" OR attributes.type = "arms_transfer")', GBR_ARMS, True),
    ('attributes:partner_SAU AND (attributes.type = "exercise" OR attributes.type = "dialogue")', GBR_ARMS, False),
    ('(attributes:partner_SAU AND attributes.kind = "new") OR attributes:partner_JPN', GBR_ARMS, False),
    ('((attributes:partner_JPN))', JPN_EXERCISE, True),
    ('attributes.kind = "update" AND -attributes:"iana.org/language_tag"', GBR_ARMS, True),
    # string escapes in keys and values
    (r'attributes."quo\"te" = "a\\b"', DOTTED, True),
    (r'attributes:"\u00e9"', DOTTED, True),
    (r'attributes."\xe9" = "\u00fc"', DOTTED, True),
    (r'attributes."\U000000e9" = "\374"', DOTTED, True),
    (r'attributes.domain = "\x63om"', DOTTED, True),
    (r'attributes.domain = "co\n"', DOTTED, False),
    ('attributes."é" = "ü"', DOTTED, True),
]


@pytest.mark.parametrize("text, attributes, expected", MATCH_TABLE)
def test_filter_evaluation_table(text, attributes, expected):
    assert parse_filter(text).matches(attributes) is expected


def test_table_covers_every_operator():
    joined = " ".join(text for text, _, _ in MATCH_TABLE)
    for operator in ("attributes:", " = ", "!=", "hasPrefix", "NOT ", "-attributes", " AND ", " OR ", "(", "\\u", "\\x"):
        assert operator in joined, operator


# (filter, fragment of the message, expected position)
ERROR_TABLE = [
    ('attributes.type = "exercise" AND attributes:a OR attributes:b', "AND and OR mixed", 46),
    ('attributes:a OR attributes:b AND attributes:c', "AND and OR mixed", 29),
    ("attributes:a and attributes:b", "'and' is not an operator", 13),
    ("not attributes:a", "'not' is not an operator", 0),
    ("attributes:a AND", "ends where a condition was expected", 16),
    ("AND attributes:a", "needs a condition before it", 0),
    ("(attributes:a", "expected ')'", 13),
    ("attributes:a)", "unbalanced ')'", 12),
    ("()", "empty parentheses", 1),
    ('attributes.type = exercise', "must be a double-quoted string", 18),
    ("attributes.type = 'exercise'", "single-quoted", 18),
    ('attributes.type = "exercise', "unterminated string", 18),
    ('attributes.type == "exercise"', "expected a double-quoted string after =", 17),
    ('attributes.type > "a"', "not a Pub/Sub filter operator", 16),
    ('attributes.type', "expected = or !=", 15),
    ('attributes.type = "a" = "b"', "cannot be chained", 22),
    ('"exercise" = attributes.type', "must start with attributes", 0),
    ("type = \"exercise\"", "expected a condition", 0),
    ("attribute:kind", "expected a condition", 0),
    ("attributes kind", "expected '.' or ':'", 11),
    ("attributes . kind = \"new\"", "unexpected space", 11),
    ("attributes: kind", "unexpected space", 12),
    ("attributes:みんな", "outside a string literal", 11),
    ("attributes:iana.org", "expected AND, OR or end of filter", 15),
    ('attributes:""', "attribute key is empty", 11),
    ("attributes:AND", "expected an attribute key", 11),
    ('hasprefix(attributes.type, "a")', "spelled hasPrefix", 0),
    ('startsWith(attributes.type, "a")', "unknown function", 0),
    ('hasPrefix(attributes.type)', "expected ','", 25),
    ('hasPrefix(attributes.type, "a", "b")', "closing hasPrefix", 30),
    ('hasPrefix("a", attributes.type)', "first argument must be attributes.KEY", 10),
    ('hasPrefix attributes.type', "needs arguments", 10),
    ('attributes:a attributes:b', "expected AND, OR", 13),
    ('attributes:a && attributes:b', "not a Pub/Sub filter operator", 13),
    ('! attributes:a', "'!' on its own", 0),
    (r'attributes.a = "\q"', "unknown escape", 16),
    (r'attributes.a = "\x4"', "exactly 2 hexadecimal digits", 16),
    (r'attributes.a = "\uD800"', "not a valid Unicode code point", 16),
    (r'attributes.a = "\18"', "3 octal digits", 16),
    ('attributes.a = "line\nbreak"', "non-printing character", 20),
    ("attributes:a ; attributes:b", "unexpected character", 13),
]


@pytest.mark.parametrize("text, fragment, position", ERROR_TABLE)
def test_invalid_filters_say_where_and_what(text, fragment, position):
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    error = info.value
    assert fragment in str(error)
    assert error.position == position
    assert "at position" in str(error)


def test_errors_carry_a_hint():
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter('attributes:a AND attributes:b OR attributes:c')
    assert "parentheses" in info.value.hint
    assert "^" in str(info.value)


def test_length_limit_is_in_bytes():
    key = "k" * (MAX_FILTER_BYTES - len("attributes:"))
    assert parse_filter(f"attributes:{key}").matches({key: ""})
    with pytest.raises(FilterSyntaxError, match="over Pub/Sub's 256-byte limit"):
        parse_filter(f"attributes:{key}k")
    # 2-byte characters count twice
    value = "é" * 120
    with pytest.raises(FilterSyntaxError, match="bytes"):
        parse_filter(f'attributes.a = "{value}"')


def test_quote_and_key_ref_round_trip():
    for value in ['plain', 'with "quotes"', "back\\slash", "new\nline", "ünï"]:
        assert parse_filter(f"attributes.k = {quote(value)}").matches({"k": value})
    assert key_ref("partner_JPN") == "partner_JPN"
    assert key_ref("a.b") == '"a.b"'
    assert key_ref("-x") == '"-x"'
    assert key_ref("AND") == '"AND"'
    for key in ("a.b", "-x", "AND", "ce-type"):
        assert parse_filter(f"attributes:{key_ref(key)}").matches({key: "1"})


# build_filter: the expression `subscribe` sends, and what it selects
ALERT_ATTRIBUTES = [
    {"type": "exercise", "kind": "new", "partner_JPN": "true", "partner_USA": "true"},
    {"type": "arms_transfer", "kind": "update", "partner_SAU": "true", "partner_USA": "true",
     "outlets_ge_2": "true", "outlets_ge_3": "true", "concern_IRN": "true"},
    {"type": "dialogue", "kind": "new", "partner_CAN": "true", "partner_JPN": "true", "concern_CHN": "true",
     "outlets_ge_2": "true"},
]


@pytest.mark.parametrize(
    "options, expected_text, selected",
    [
        ({}, "", [0, 1, 2]),
        ({"partners": ["JPN"]}, "attributes:partner_JPN", [0, 2]),
        ({"partners": ["SAU", "CAN"]}, "attributes:partner_SAU OR attributes:partner_CAN", [1, 2]),
        ({"concerns": ["CHN"]}, "attributes:concern_CHN", [2]),
        ({"types": ["exercise", "dialogue"]}, 'attributes.type = "exercise" OR attributes.type = "dialogue"', [0, 2]),
        ({"min_outlets": 3}, "attributes:outlets_ge_3", [1]),
        ({"min_outlets": 1}, "", [0, 1, 2]),
        ({"kind": "new"}, 'attributes.kind = "new"', [0, 2]),
        (
            {"partners": ["JPN", "SAU"], "types": ["arms_transfer"]},
            '(attributes:partner_JPN OR attributes:partner_SAU) AND attributes.type = "arms_transfer"',
            [1],
        ),
        ({"partners": ["JPN"], "min_outlets": 2, "kind": "new"}, None, [2]),
    ],
)
def test_build_filter_selects_what_was_asked(options, expected_text, selected):
    text = build_filter(**options)
    if expected_text is not None:
        assert text == expected_text
    compiled = parse_filter(text)
    assert [i for i, attrs in enumerate(ALERT_ATTRIBUTES) if compiled.matches(attrs)] == selected


def test_build_filter_deduplicates_and_rejects_over_long_filters():
    assert build_filter(partners=["JPN", "JPN"]) == "attributes:partner_JPN"
    with pytest.raises(FilterSyntaxError, match="256-byte"):
        build_filter(partners=[f"C{i:02d}" for i in range(12)])
