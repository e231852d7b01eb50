"""Reading pages the way a user does: the text of an element, a field's value and
its error, links by their rel (standard library only)."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from typing import Any

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


class _Finder(HTMLParser):
    """Collects the text inside every element matching ``match(tag, attrs)``."""

    def __init__(self, match: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.match = match
        self.stack: list[tuple[str, bool]] = []
        self.found: list[list[str]] = []
        self.open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        hit = bool(self.match(tag, dict(attrs)))
        if hit:
            self.found.append([])
            self.open.append(len(self.found) - 1)
        self.stack.append((tag, hit))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, hit = self.stack.pop()
            if hit:
                self.open.pop()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self.open:
            self.found[index].append(data)


def texts(page: str, match: Any) -> list[str]:
    finder = _Finder(match)
    finder.feed(page)
    return [" ".join("".join(parts).split()) for parts in finder.found]


def text_by_id(page: str, element_id: str) -> str:
    found = texts(page, lambda _tag, attrs: attrs.get("id") == element_id)
    assert found, f"no element with id {element_id}"
    return found[0]


def field_error(page: str, field_id: str) -> str:
    """The message shown next to a field (the forms macro gives it ``ID-error``)."""
    return text_by_id(page, f"{field_id}-error").replace("Error:", "").replace("خطأ:", "").strip()


def by_class(page: str, class_name: str) -> list[str]:
    return texts(page, lambda _tag, attrs: class_name in (attrs.get("class") or "").split())


def input_value(page: str, name: str) -> str | None:
    for match in re.finditer(r"<input\b[^>]*>", page):
        tag = match.group(0)
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            value = re.search(r'\bvalue="([^"]*)"', tag)
            return html_lib.unescape(value.group(1)) if value else ""
    return None


def textarea_value(page: str, name: str) -> str | None:
    match = re.search(
        rf'<textarea\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    return html_lib.unescape(match.group(1)).strip() if match else None


def selected(page: str, name: str) -> list[str]:
    """The values selected in a <select> or checked among radios/checkboxes."""
    values = []
    select = re.search(rf'<select\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if select:
        for option in re.findall(r"<option\b[^>]*>", select.group(1)):
            if re.search(r"\bselected\b", option):
                values.append(re.search(r'value="([^"]*)"', option).group(1))
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            values.append(re.search(r'value="([^"]*)"', tag).group(1))
    return values


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a\b[^>]*href="([^"]*)"[^>]*rel="{rel}"', page)
    return html_lib.unescape(match.group(1)) if match else None


def main_text(page: str) -> str:
    return " ".join(texts(page, lambda tag, _attrs: tag == "main"))
