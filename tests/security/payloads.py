"""Hostile text: what an attacker, or a careless copy and paste, puts in a free-text
field. Every payload is at most 50 characters, so it fits the shortest text field
(a partner's acronym) unchanged."""

from __future__ import annotations

# The bidirectional controls that disguise text: embeddings and overrides
# (U+202A–U+202E) and isolates (U+2066–U+2069).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

XSS_PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=javascript:alert(1)>s</a></svg>",
    "<a href=javascript:alert(1)>click</a>",
    "<a href='data:text/html,<script>alert(1)x'>",
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "</textarea></title><script>alert(1)</script>",
    "<iframe src=//evil.example></iframe>",
    "<details open ontoggle=alert(1)>",
    "<xss-probe class=xss-probe>probe</xss-probe>",
    "<style>*{display:none}</style><base href=//e.x>",
    "'';!--\"<XSS>=&{()}",
    # template and format-string injection
    "{{7*7}} {{7*'7'}} {{config}}",
    "{% raw %}{%{% endraw %} {%print(7*7)%}",
    "${7*7} #{7*7} <%= 7*7 %> {{7*7}}",
    "%(name)s %s %d {0} {name}",
    # entities must stay as typed, not turn into markup
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;#60;",
    "&#60;img src=x onerror=alert(1)&#62; &quot;",
    # inside Arabic text
    "شريك <script>alert(1)</script> للعدالة",
    'منظمة "><img src=x onerror=alert(1)> سوريا',
    "\u200fرابطة\u200f <svg onload=alert(1)> ذوي المفقودين",
    # bidirectional controls that would reorder the interface around them
    "\u202egnp.exe\u202c تقرير",
    "abc\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069xyz",
    "\u2067عائلات\u2069 \u202dOVERRIDE \u2066<b>x</b>",
)
assert all(len(p) <= 50 for p in XSS_PAYLOADS), [p for p in XSS_PAYLOADS if len(p) > 50]

# What a template engine that evaluated the text would have written.
EVALUATED = ("7777777", "<Config ")

# Substrings that only appear in a page when a payload became markup.
RAW_MARKUP = (
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "<iframe",
    "<details open",
    "<xss-probe",
    "<style>",
    "<base ",
    "<XSS>",
    "<a href=javascript",
    "<a href='data:",
    "<b>x</b>",
)


def pack(limit: int, payloads: tuple[str, ...] = XSS_PAYLOADS) -> list[str]:
    """The payloads joined into as few strings of at most ``limit`` characters as
    possible, each payload whole, so a record per string carries them all."""
    packs: list[str] = []
    current = ""
    for payload in payloads:
        candidate = f"{current} {payload}" if current else payload
        if len(candidate) <= limit:
            current = candidate
        else:
            packs.append(current)
            current = payload
    packs.append(current)
    return packs


def has_bidi(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)


# Link fields: only http, https and mailto may reach an href.
BAD_LINKS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/",
)
GOOD_LINKS = ("https://example.org/a?b=1&c=2", "http://example.org/", "mailto:a@example.org")
