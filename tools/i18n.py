#!/usr/bin/env python3
"""Translation catalogs: extract, update, compile, review and check them.

    python tools/i18n.py extract                  # sources -> translations/messages.pot
    python tools/i18n.py update [--drop-obsolete] # extract, update ar/en .po, compile .mo
    python tools/i18n.py compile                  # .po -> .mo
    python tools/i18n.py todo [--path-prefix crm/partners] [--output FILE]
    python tools/i18n.py fill FILE.json           # merge Arabic translations, compile
    python tools/i18n.py check                    # exit 1 on any catalog problem

Several engineers run this at the same time in one working tree, so every write
happens under an exclusive lock on translations/.lock (readers take a shared
one) and every file is replaced atomically.

The files are written so that they change only when their content does:
messages sorted by msgid, locations as file names without line numbers (moving
code does not touch the catalogs; `#: crm/partners/views.py` still says where a
string lives), and no volatile headers (creation and revision dates, the Babel
version). `check` compares catalogs by content, never by modification time:
a fresh git clone gives every file the time of the checkout.

`todo` writes a JSON skeleton, `{msgid: ""}` and, for a message with plural
forms, `{msgid: ["", "", "", "", "", ""]}`: Arabic has six forms, in the order
of the catalog's Plural-Forms expression (see PLURAL_FORM_NAMES). Fill in what
you can, then `fill` it; empty values are skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import PoFileParser, write_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCK = TRANSLATIONS / ".lock"
DOMAIN = "messages"
SOURCE_DIRS = ("crm",)
LOCALES = ("ar", "en")
#: The locale every message must be translated into (English is the source language).
TARGET = "ar"

PROJECT = "outreach-crm"
COPYRIGHT_HOLDER = "the outreach-crm contributors"
LANGUAGE_NAMES = {"ar": "Arabic", "en": "English"}

# Flask-Babel's lazy functions and our `_l` alias, on top of Babel's defaults
# (`_`, gettext, ngettext, pgettext, npgettext, ...). babel.cfg names the same.
KEYWORDS: dict[str, Any] = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
    "lazy_npgettext": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("TRANSLATORS:",)

# The GNU gettext rule for Arabic (Babel's own spells the same rule differently).
PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
}
PLURAL_FORM_NAMES = {
    "ar": (
        "zero (0)",
        "one (1)",
        "two (2)",
        "few (3-10, 103-110, ...)",
        "many (11-99, 111-199, ...)",
        "other (100-102, 200-202, ...)",
    ),
}
# Plural forms that name their number in words ("شريك واحد", "شريكان") may leave
# out the counter placeholder; they may not leave out any other.
WORDED_FORMS = {"ar": (0, 1, 2), "en": (0,)}
COUNTER_NAMES = {"num", "count", "n"}
HINT = "  ->"  # a line of advice among the problems

# Headers that would change the files on every run or with every Babel release,
# and Babel's placeholders for addresses this project does not have (git
# history says who translated what).
OMITTED_HEADERS = {
    "POT-Creation-Date",
    "PO-Revision-Date",
    "Generated-By",
    "Report-Msgid-Bugs-To",
    "Last-Translator",
}

PY_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
BRACE_FORMAT = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_]\w*|\d*)(?:[!:][^{}]*)?\}(?!\})")
HTML_TAG = re.compile(r"<\s*(?P<close>/?)\s*(?P<tag>[A-Za-z][\w-]*)(?:\s[^<>]*?)?\s*(?P<self>/?)>")


# ---------------------------------------------------------------------------
# Files


class StableCatalog(Catalog):
    """A catalog whose header leaves out what would change on every run (dates,
    the Babel version) and the placeholders nobody fills in."""

    def _stable_mime_headers(self) -> list[tuple[str, str]]:
        headers = [
            (name, value.rstrip("\n"))
            for name, value in Catalog.mime_headers.fget(self)
            if name not in OMITTED_HEADERS
        ]
        # Every header line ends with a newline; Babel puts it on Generated-By.
        name, value = headers[-1]
        headers[-1] = (name, f"{value}\n")
        return headers

    mime_headers = property(_stable_mime_headers, Catalog.mime_headers.fset)


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@contextlib.contextmanager
def locked(*, exclusive: bool) -> Iterator[None]:
    """Hold translations/.lock: exclusively to write, shared to read."""
    TRANSLATIONS.mkdir(exist_ok=True)
    with open(LOCK, "a+b") as lock:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(lock, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for {rel(LOCK)} (another i18n command is running)...", file=sys.stderr)
            fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace `path` atomically with `data`; leave it alone if it already holds it."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def header_comment(locale: str | None) -> str:
    what = f"{LANGUAGE_NAMES[locale]} translations" if locale else "Translations template"
    return (
        f"# {what} for {PROJECT}.\n"
        f"# Copyright (C) {COPYRIGHT_HOLDER}\n"
        f"# Distributed under the same license as {PROJECT} (AGPL-3.0-or-later).\n"
        "# Generated by tools/i18n.py: edit translations (msgstr) only."
    )


def read_catalog(path: Path, locale: str | None = None) -> StableCatalog:
    catalog = StableCatalog(locale=locale, domain=DOMAIN, charset="utf-8")
    with open(path, "rb") as f:
        PoFileParser(catalog, ignore_obsolete=False, abort_invalid=True).parse(f)
    return catalog


def render_po(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=76, sort_output=True, include_lineno=False)
    return buf.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Extract, update, compile


def _walk_sources(dirpath: str) -> bool:
    relpath = Path(dirpath).relative_to(ROOT).as_posix()
    name = Path(dirpath).name
    if name.startswith(".") or name == "__pycache__":  # _macros/ holds strings too
        return False
    return any(relpath == top or relpath.startswith(f"{top}/") for top in SOURCE_DIRS)


def extract_catalog() -> StableCatalog:
    """The messages in the sources now, as a template catalog."""
    with open(BABEL_CFG, encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    catalog = StableCatalog(
        domain=DOMAIN,
        project=PROJECT,
        version=project_version(),
        copyright_holder=COPYRIGHT_HOLDER,
        header_comment=header_comment(None),
        charset="utf-8",
        fuzzy=False,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=_walk_sources,
    ):
        catalog.add(
            message,
            None,
            [(filename.replace(os.sep, "/"), lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def new_catalog(template: Catalog, locale: str) -> StableCatalog:
    """What `pybabel init` makes, with our header and Plural-Forms."""
    catalog = StableCatalog(
        locale=locale,
        domain=DOMAIN,
        project=PROJECT,
        version=template.version,
        copyright_holder=COPYRIGHT_HOLDER,
        header_comment=header_comment(locale),
        language_team=LANGUAGE_NAMES[locale],
        charset="utf-8",
        fuzzy=False,
    )
    if locale in PLURAL_FORMS:
        catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[locale])]
    return catalog


def update_catalog(template: Catalog, locale: str, *, drop_obsolete: bool) -> StableCatalog:
    path = po_path(locale)
    catalog = read_catalog(path, locale) if path.exists() else new_catalog(template, locale)
    # A message that comes back (a string deleted and restored, a branch
    # half-merged) gets its old translation again; Babel would leave it obsolete.
    for message in list(catalog.obsolete.values()):
        if message.string and catalog.get(message.id, message.context) is None:
            catalog[message.id] = message
    catalog.obsolete.clear()
    catalog.update(
        template,
        no_fuzzy_matching=True,
        update_header_comment=False,
        update_creation_date=False,
    )
    # Keep obsolete translations (written as `#~`) so that nothing translated is
    # lost to a transient edit; untranslated ones are worthless.
    for key, message in list(catalog.obsolete.items()):
        if drop_obsolete or not _translated_any(message):
            del catalog.obsolete[key]
    return catalog


def _translated_any(message: Message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return any(strings)


def compile_catalogs() -> list[str]:
    written = []
    for locale in LOCALES:
        if not po_path(locale).exists():
            continue
        data = render_mo(read_catalog(po_path(locale), locale))
        if write_if_changed(mo_path(locale), data):
            written.append(rel(mo_path(locale)))
    return written


def cmd_extract(args: argparse.Namespace) -> int:
    with locked(exclusive=True):
        template = extract_catalog()
        changed = write_if_changed(POT, render_po(template))
    print(f"{rel(POT)}: {len(template)} messages{' (updated)' if changed else ''}")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    with locked(exclusive=True):
        template = extract_catalog()
        if write_if_changed(POT, render_po(template)):
            print(f"updated {rel(POT)}")
        for locale in LOCALES:
            catalog = update_catalog(template, locale, drop_obsolete=args.drop_obsolete)
            if write_if_changed(po_path(locale), render_po(catalog)):
                print(f"updated {rel(po_path(locale))}")
        for path in compile_catalogs():
            print(f"compiled {path}")
        todo = [m for m in read_catalog(po_path(TARGET), TARGET) if m.id and needs_work(m)]
    print(f"{len(template)} messages; {len(todo)} need an Arabic translation")
    if todo:
        print("  python tools/i18n.py todo --path-prefix crm/<area> > todo.json  # then fill it")
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    with locked(exclusive=True):
        for path in compile_catalogs():
            print(f"compiled {path}")
    return 0


# ---------------------------------------------------------------------------
# What a translation must keep


def _strings(message: Message) -> list[str]:
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string or ""]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def placeholders(text: str) -> tuple[set[str], list[str], set[str]]:
    """Named %-placeholders, unnamed %-conversions in order, and {name} fields."""
    named: set[str] = set()
    unnamed: list[str] = []
    for m in PY_FORMAT.finditer(text):
        if m["conv"] == "%":
            continue
        if m["name"] is not None:
            named.add(m["name"])
        else:
            unnamed.append(m["conv"])
    braces = {m["name"] for m in BRACE_FORMAT.finditer(text)}
    return named, unnamed, braces


def html_tags(text: str) -> list[str]:
    return sorted(f"{m['close']}{m['tag'].lower()}{m['self']}" for m in HTML_TAG.finditer(text))


class _AnyValue(dict):
    def __missing__(self, key: str) -> int:
        return 0


def _formats(text: str) -> bool:
    try:
        text % _AnyValue()
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _show(text: str, limit: int = 70) -> str:
    text = text.replace("\n", "\\n")
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def translation_problems(message: Message, strings: list[str], locale: str) -> list[str]:
    """What is wrong with `strings` as the translation of `message` (empty = fine)."""
    problems = []
    ids = _ids(message)
    plural = message.pluralizable
    source_named: set[str] = set()
    source_braces: set[str] = set()
    for text in ids:
        named, _unnamed, braces = placeholders(text)
        source_named |= named
        source_braces |= braces
    reference = ids[-1]  # msgid_plural for plurals: the form that shows every variable
    ref_named, ref_unnamed, ref_braces = placeholders(reference)
    ref_tags = html_tags(reference)
    python_format = "python-format" in message.flags and all(_formats(t) for t in ids)
    for index, text in enumerate(strings):
        if not text:
            continue
        where = f"form [{index}] " if plural else ""
        named, unnamed, braces = placeholders(text)
        unknown = (named - source_named) | (braces - source_braces)
        if unknown:
            problems.append(f"{where}has placeholders the source does not: {sorted(unknown)}")
        missing = (ref_named - named) | (ref_braces - braces)
        if plural and index in WORDED_FORMS.get(locale, ()):
            missing -= COUNTER_NAMES
        if missing:
            problems.append(f"{where}drops placeholders {sorted(missing)}")
        if unnamed != ref_unnamed:
            problems.append(f"{where}has unnamed placeholders {unnamed}, source {ref_unnamed}")
        if python_format and not _formats(text):
            problems.append(f"{where}is not a valid %-format string (write a literal % as %%)")
        tags = html_tags(text)
        if tags != ref_tags:
            problems.append(f"{where}has HTML tags {tags}, source {ref_tags}")
    return problems


def needs_work(message: Message) -> bool:
    return message.fuzzy or not all(_strings(message))


# ---------------------------------------------------------------------------
# Check


def _files(message: Message) -> tuple[str, ...]:
    return tuple(sorted({path for path, _line in message.locations}))


def _fingerprint(catalog: Catalog) -> dict[Any, tuple]:
    return {
        (m.context, m.id if isinstance(m.id, str) else tuple(m.id)): (
            _files(m),
            tuple(m.auto_comments),
            tuple(sorted(m.flags - {"fuzzy"})),
        )
        for m in catalog
        if m.id
    }


def _label(key: tuple[str | None, Any]) -> str:
    context, msgid = key
    text = msgid if isinstance(msgid, str) else msgid[0]
    return (f"[{context}] " if context else "") + _show(text)


def pot_problems() -> list[str]:
    """The .pot differs from what the sources hold now."""
    if not POT.exists():
        return [f"{rel(POT)} is missing: run `make i18n-update`"]
    fresh = _fingerprint(extract_catalog())
    stored = _fingerprint(read_catalog(POT))
    problems = []
    for key in sorted(fresh.keys() - stored.keys(), key=str):
        problems.append(f"{rel(POT)}: new in the sources, not extracted: {_label(key)}")
    for key in sorted(stored.keys() - fresh.keys(), key=str):
        problems.append(f"{rel(POT)}: no longer in the sources: {_label(key)}")
    for key in sorted(fresh.keys() & stored.keys(), key=str):
        if fresh[key] != stored[key]:
            problems.append(f"{rel(POT)}: locations or comments changed: {_label(key)}")
    if problems:
        problems.append(f"{HINT} run `make i18n-update` (python tools/i18n.py update)")
    return problems


def catalog_problems(locale: str) -> list[str]:
    """The .po is out of step with the .pot, or (for Arabic) not fully translated."""
    path = po_path(locale)
    if not path.exists():
        return [f"{rel(path)} is missing: run `make i18n-update`"]
    catalog = read_catalog(path, locale)
    name = rel(path)
    problems = []
    if locale in PLURAL_FORMS and catalog.plural_forms != PLURAL_FORMS[locale]:
        problems.append(
            f"{name}: Plural-Forms is {catalog.plural_forms!r}, expected {PLURAL_FORMS[locale]!r}"
        )
    if POT.exists():
        template = _fingerprint(read_catalog(POT)).keys()
        mine = _fingerprint(catalog).keys()
        for key in sorted(template - mine, key=str):
            problems.append(f"{name}: not updated from the .pot: {_label(key)}")
        for key in sorted(mine - template, key=str):
            problems.append(f"{name}: not in the .pot: {_label(key)}")
    for message in catalog:
        if not message.id:
            continue
        label = _label((message.context, message.id))
        strings = _strings(message)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(
                f"{name}: {label} has {len(strings)} plural forms, needs {catalog.num_plurals}"
            )
        if locale == TARGET:
            if message.fuzzy:
                problems.append(f"{name}: fuzzy (check it, then remove the flag): {label}")
            if not any(strings):
                problems.append(f"{name}: untranslated: {label}")
            elif not all(strings):
                empty = [i for i, s in enumerate(strings) if not s]
                problems.append(f"{name}: plural forms {empty} untranslated: {label}")
        elif message.fuzzy:
            problems.append(f"{name}: fuzzy: {label}")
        for problem in translation_problems(message, strings, locale):
            problems.append(f"{name}: {label} {problem}")
    return problems


def _compiled(data: bytes) -> tuple[Any, ...]:
    catalog = read_mo(io.BytesIO(data))
    messages = {
        (m.context, m.id if isinstance(m.id, str) else tuple(m.id)): (
            m.string if isinstance(m.string, str) else tuple(m.string)
        )
        for m in catalog
        if m.id
    }
    return catalog.num_plurals, catalog.plural_expr, messages


def mo_problems(locale: str) -> list[str]:
    """The committed .mo does not hold what its .po compiles to."""
    if not po_path(locale).exists():
        return []
    path = mo_path(locale)
    if not path.exists():
        return [f"{rel(path)} is missing: run `make i18n-compile`"]
    expected = _compiled(render_mo(read_catalog(po_path(locale), locale)))
    if _compiled(path.read_bytes()) != expected:
        return [f"{rel(path)} is stale (differs from its .po): run `make i18n-compile`"]
    return []


def all_problems() -> list[str]:
    problems = pot_problems()
    for locale in LOCALES:
        problems += catalog_problems(locale)
        problems += mo_problems(locale)
    return problems


def cmd_check(args: argparse.Namespace) -> int:
    with locked(exclusive=False):
        problems = all_problems()
    if problems:
        count = sum(1 for p in problems if not p.startswith(HINT))
        print(f"{count} translation problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    count = len(read_catalog(POT))
    print(f"catalogs OK: {count} messages, all translated into Arabic, .pot/.po/.mo in step")
    return 0


# ---------------------------------------------------------------------------
# Todo and fill


def _json_key(message: Message) -> str:
    msgid = _ids(message)[0]
    return f"{message.context}\x04{msgid}" if message.context else msgid


def cmd_todo(args: argparse.Namespace) -> int:
    with locked(exclusive=False):
        catalog = read_catalog(po_path(args.locale), args.locale)
    skeleton: dict[str, Any] = {}
    notes = []
    for message in catalog:
        if not message.id or not needs_work(message):
            continue
        files = _files(message)
        if args.path_prefix and not any(f.startswith(tuple(args.path_prefix)) for f in files):
            continue
        key = _json_key(message)
        if message.pluralizable:
            # A fuzzy or half-done entry comes with what it has, to be checked.
            strings = _strings(message) + [""] * catalog.num_plurals
            skeleton[key] = strings[: catalog.num_plurals]
        else:
            skeleton[key] = message.string or ""
        extra = []
        if message.pluralizable:
            extra.append(f"plural: {_show(message.id[1])}")
        if message.fuzzy:
            extra.append("fuzzy: the current text is filled in, check it")
        extra += [f"note: {c}" for c in message.auto_comments]
        notes.append(
            f"  {_show(key)}  ({', '.join(files)})" + "".join(f"\n      {e}" for e in extra)
        )
    text = json.dumps(skeleton, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    where = f" under {', '.join(args.path_prefix)}" if args.path_prefix else ""
    print(f"{len(skeleton)} message(s){where} need a translation:", file=sys.stderr)
    print("\n".join(notes), file=sys.stderr)
    if any(isinstance(v, list) for v in skeleton.values()):
        names = PLURAL_FORM_NAMES.get(args.locale)
        if names:
            print("plural forms, in order:", file=sys.stderr)
            for index, form in enumerate(names):
                print(f"  [{index}] {form}", file=sys.stderr)
    print("fill it in, then: python tools/i18n.py fill FILE.json", file=sys.stderr)
    return 0


def _load_json(source: str) -> dict[str, Any]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the file must hold one JSON object {msgid: translation}")
    return data


def merge_translations(
    catalog: Catalog, data: dict[str, Any], locale: str
) -> tuple[int, list[str]]:
    """Put `data` into `catalog`; return (messages changed, problems). Nothing
    is changed when there is any problem."""
    problems = []
    changes: list[tuple[Message, str | tuple[str, ...]]] = []
    for key, value in data.items():
        context, _sep, msgid = key.rpartition("\x04")
        message = catalog.get(msgid, context or None)
        if message is None:
            problems.append(
                f"{_show(key)}: not in {rel(po_path(locale))} "
                "(run `python tools/i18n.py update` first, or check the spelling)"
            )
            continue
        if message.pluralizable:
            if isinstance(value, str):
                problems.append(
                    f"{_show(key)}: has plural forms: give a list of {catalog.num_plurals}"
                )
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{_show(key)}: expected a list of strings")
                continue
            if not any(value):
                continue
            if len(value) != catalog.num_plurals or not all(value):
                problems.append(
                    f"{_show(key)}: give all {catalog.num_plurals} plural forms, none empty"
                )
                continue
            new: str | tuple[str, ...] = tuple(value)
            strings = list(value)
        else:
            if not isinstance(value, str):
                problems.append(f"{_show(key)}: has no plural forms: give one string")
                continue
            if not value:
                continue
            new = value
            strings = [value]
        for problem in translation_problems(message, strings, locale):
            problems.append(f"{_show(key)}: {problem}")
        if new != message.string or message.fuzzy:
            changes.append((message, new))
    if problems:
        return 0, problems
    for message, new in changes:
        message.string = new
        message.flags.discard("fuzzy")
    return len(changes), []


def cmd_fill(args: argparse.Namespace) -> int:
    try:
        data = _load_json(args.file)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    with locked(exclusive=True):
        path = po_path(args.locale)
        catalog = read_catalog(path, args.locale)
        changed, problems = merge_translations(catalog, data, args.locale)
        if problems:
            print(f"nothing written; {len(problems)} problem(s):", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        write_if_changed(path, render_po(catalog))
        compiled = compile_catalogs()
        left = sum(1 for m in catalog if m.id and needs_work(m))
    print(f"{changed} translation(s) written to {rel(path)}; {left} still to do")
    for compiled_path in compiled:
        print(f"compiled {compiled_path}")
    return 0


# ---------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/i18n.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="write translations/messages.pot from the sources").set_defaults(
        func=cmd_extract
    )
    update = sub.add_parser("update", help="extract, update the ar/en catalogs, compile")
    update.add_argument(
        "--drop-obsolete",
        action="store_true",
        help="also drop translations of messages no longer in the sources",
    )
    update.set_defaults(func=cmd_update)
    sub.add_parser("compile", help="compile the .po catalogs into .mo").set_defaults(
        func=cmd_compile
    )
    todo = sub.add_parser("todo", help="print untranslated Arabic messages as JSON to fill")
    todo.add_argument(
        "--path-prefix",
        action="append",
        help="only messages used in files whose path starts with this (repeatable)",
    )
    todo.add_argument("--output", "-o", help="write the JSON here instead of standard output")
    todo.add_argument("--locale", default=TARGET, choices=LOCALES, help=argparse.SUPPRESS)
    todo.set_defaults(func=cmd_todo)
    fill = sub.add_parser("fill", help="merge translations from a JSON file (- for stdin)")
    fill.add_argument("file")
    fill.add_argument("--locale", default=TARGET, choices=LOCALES, help=argparse.SUPPRESS)
    fill.set_defaults(func=cmd_fill)
    sub.add_parser("check", help="exit 1 on a stale or incomplete catalog").set_defaults(
        func=cmd_check
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
