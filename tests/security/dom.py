"""Reading a page as a browser would (stdlib html.parser) and saying what in it
could run, load, navigate or reorder the interface.

``problems(html)`` lists every element, attribute or text of the page that breaks
one of these rules; an empty list is a clean page:

- no ``<script>`` but the application's own (``src`` under ``/static/``, empty);
- no ``on…`` attribute anywhere;
- no ``javascript:``, ``data:`` or ``vbscript:`` URL in any attribute that loads or
  navigates, and only same-site URLs where something is loaded (``src``, forms,
  stylesheets); links (``<a href>``) may also go to http, https and mailto;
- no element that a page of this application never has (``iframe``, ``object``,
  ``embed``, ``base``, ``style``, ``meta`` refresh, the probe element…);
- text holding a bidirectional control is isolated: inside ``<bdi>`` or an element
  with a ``dir`` attribute, reached through inline elements only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from tests.security.payloads import BIDI_CONTROLS, EVALUATED, RAW_MARKUP, has_bidi

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# Attributes holding a URL that is loaded, submitted to or followed.
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcset",
    "ping",
    "cite",
    "longdesc",
    "manifest",
    "codebase",
    "lowsrc",
    "dynsrc",
}
FORBIDDEN_ELEMENTS = {
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "style",
    "xss-probe",
    "xss",
    "marquee",
    "math",
    "details-probe",
}
# Elements through which a bidi control would still reorder its neighbours.
INLINE = {
    "a",
    "abbr",
    "b",
    "cite",
    "code",
    "del",
    "dfn",
    "em",
    "i",
    "ins",
    "kbd",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
}
# Text in these is shown in a box of its own (form controls) or not as page text.
SELF_CONTAINED = {"textarea", "option", "script", "template"}
DANGEROUS_SCHEMES = ("javascript", "data", "vbscript")
LINK_SCHEMES = ("http", "https", "mailto")
_STRIP = re.compile(r"[\x00-\x20\x7f]+")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]


@dataclass
class Page:
    html: str
    elements: list[tuple[Node, tuple[Node, ...]]] = field(default_factory=list)
    texts: list[tuple[str, tuple[Node, ...]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(normalise(t) for t, _ in self.texts if t.strip())

    def attribute_values(self) -> list[str]:
        return [normalise(v) for node, _ in self.elements for v in node.attrs.values() if v]

    def shows(self, value: str) -> bool:
        """``value`` is on the page as text (or as a form control's value)."""
        wanted = normalise(value)
        return wanted in self.text or any(wanted in v for v in self.attribute_values())

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        return [
            node
            for node, _ in self.elements
            if node.tag == tag and all(node.attrs.get(k) == v for k, v in attrs.items())
        ]


def normalise(text: str) -> str:
    return " ".join(text.split())


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[Node] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k.lower(): (v or "") for k, v in attrs})
        self.page.elements.append((node, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k.lower(): (v or "") for k, v in attrs})
        self.page.elements.append((node, tuple(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.page.texts.append((data, tuple(self.stack)))


def parse(html: str) -> Page:
    page = Page(html)
    parser = _Parser(page)
    parser.feed(html)
    parser.close()
    return page


def _scheme(url: str) -> str:
    cleaned = _STRIP.sub("", url)  # browsers ignore these inside and around a scheme
    if ":" not in cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return ""
    return cleaned.split(":", 1)[0].lower()


def _same_site(url: str) -> bool:
    url = url.strip()
    if not url or url.startswith(("#", "?")):
        return True
    if url.startswith(("//", "/\\", "\\")):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not _scheme(url)


def _element_problems(node: Node, ancestors: tuple[Node, ...]) -> list[str]:
    found = []
    tag, attrs = node.tag, node.attrs
    where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs.items())}>"
    if tag in FORBIDDEN_ELEMENTS:
        found.append(f"forbidden element {where}")
    if "xss-probe" in attrs.get("class", ""):
        found.append(f"probe class {where}")
    for name, value in attrs.items():
        if name.startswith("on"):
            found.append(f"event handler attribute {name} on {where}")
        if name in URL_ATTRIBUTES or name.endswith(":href"):
            scheme = _scheme(value)
            if scheme in DANGEROUS_SCHEMES:
                found.append(f"{scheme}: URL in {name} of {where}")
            elif tag in ("a", "area") and name == "href":
                if scheme and scheme not in LINK_SCHEMES:
                    found.append(f"link with scheme {scheme!r}: {where}")
                elif not scheme and value.strip().startswith(("//", "/\\", "\\")):
                    found.append(f"scheme-relative link {where}")
            elif not _same_site(value):
                found.append(f"{name} loads from another site: {where}")
        if name == "srcdoc":
            found.append(f"srcdoc on {where}")
    if tag == "script":
        src = attrs.get("src", "")
        if not src.startswith("/static/"):
            found.append(f"script that is not the application's: {where}")
    if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
        found.append(f"meta refresh {where}")
    if tag == "link" and not attrs.get("href", "").startswith("/static/"):
        found.append(f"link element to {attrs.get('href')!r}")
    if tag == "form" and not _same_site(attrs.get("action", "")):
        found.append(f"form posting to another site: {where}")
    return found


def _isolated(ancestors: tuple[Node, ...]) -> bool:
    for node in reversed(ancestors):
        if node.tag == "bdi" or "dir" in node.attrs:
            return True
        if node.tag in SELF_CONTAINED:
            return True
        if node.tag not in INLINE:
            return False
    return False


def problems(html: str, *, page: Page | None = None) -> list[str]:
    page = page or parse(html)
    found: list[str] = []
    for node, ancestors in page.elements:
        found.extend(_element_problems(node, ancestors))
    for text, ancestors in page.texts:
        inside = ancestors[-1].tag if ancestors else ""
        if inside == "script" and text.strip():
            found.append(f"inline script content {text[:60]!r}")
        if has_bidi(text) and not _isolated(ancestors):
            path = " > ".join(n.tag for n in ancestors[-4:])
            found.append(f"bidi control not isolated in {path}: {text.strip()[:60]!r}")
    for evaluated in EVALUATED:
        if evaluated in html:
            found.append(f"template evaluated: {evaluated!r} on the page")
    lowered = html.lower()
    for fragment in RAW_MARKUP:
        if fragment.lower() in lowered:
            found.append(f"raw markup from a payload: {fragment!r}")
    return found


def assert_clean(html: str, where: Any = "") -> Page:
    page = parse(html)
    found = problems(html, page=page)
    assert not found, f"{where}: " + "\n".join(dict.fromkeys(found))
    return page


def visible_bidi(text: str) -> str:
    return "".join(f"<U+{ord(c):04X}>" if c in BIDI_CONTROLS else c for c in text)


# --- forms, as a browser fills them ------------------------------------------------


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.select: str | None = None
        self.option: dict[str, str] | None = None
        self.option_text = ""
        self.textarea: str | None = None
        self.textarea_text = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if tag == "form":
            self.current = {"attrs": attrs, "fields": [], "selects": {}}
            self.forms.append(self.current)
        if self.current is None:
            return
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            name = attrs.get("name")
            if not name or kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.current["fields"].append((name, attrs.get("value", "on")))
        elif tag == "select":
            self.select = attrs.get("name")
            self.current["selects"][self.select] = {"multiple": "multiple" in attrs, "all": []}
        elif tag == "option" and self.select:
            self.option = attrs
            self.option_text = ""
        elif tag == "textarea":
            self.textarea = attrs.get("name")
            self.textarea_text = ""

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea_text += data

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if tag == "option" and self.option is not None and self.select:
            value = self.option.get("value", self.option_text.strip())
            chosen = "selected" in self.option
            self.current["selects"][self.select]["all"].append((value, chosen))
            self.option = None
        elif tag == "select" and self.select:
            info = self.current["selects"][self.select]
            chosen = [v for v, c in info["all"] if c]
            if not chosen and not info["multiple"] and info["all"]:
                chosen = [info["all"][0][0]]
            self.current["fields"].extend((self.select, v) for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea:
            text = self.textarea_text
            if text.startswith("\n"):
                text = text[1:]
            self.current["fields"].append((self.textarea, text))
            self.textarea = None
        elif tag == "form":
            self.current = None


def forms(html: str) -> list[dict[str, Any]]:
    """Every form of the page: ``attrs`` and ``fields`` [(name, value), …] as a
    browser would submit them without the user touching anything."""
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms


def form_with(html: str, field_name: str) -> dict[str, Any]:
    for form in forms(html):
        if any(name == field_name for name, _ in form["fields"]):
            return form
    raise AssertionError(f"no form with a field {field_name!r}")


def as_multidict(fields: list[tuple[str, str]], **changes: Any) -> Any:
    from werkzeug.datastructures import MultiDict

    data = MultiDict(fields)
    for name, value in changes.items():
        if value is None:
            data.poplist(name)
        else:
            data.setlist(name, [value] if isinstance(value, str | int) else list(value))
    return data
