"""``crm demo``: a fictional, realistic, bilingual history of the outreach work.

It fills an empty database with the Mechanism's outreach since 2018: partners of
every type (some confidential, some inside Syria with a security note), a
multilateral protocol signed by 28 organisations, amendments, frameworks that
expired or ended, engagements of every kind and category, follow-ups and a few
pseudonymous people with their consent. Every name is invented. The 2024 report
gives the published key results: 100 cooperation frameworks concluded to date and
22 engagements with victims and survivors; at the end of 2022 the count was 83.

The records are created through the areas' services, as a demonstration user
(a victims and survivors focal point, the role that may do all of it) whose
random password is printed once. The 2023 and 2024 reports are locked as
published, and one engagement of December 2023 was logged after the lock, so the
2023 report shows a restatement; so will 2024 once a record dated 2024 is added.

The data are generated from a fixed seed: every run gives the same history.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm import clock
from crm.cli import fail, localized, unit_of_work

SEED = 2016
DEMO_EMAIL = "demo@example.org"

# --- names (all invented) ---------------------------------------------------------------

CITIES = {
    "TR": ("Gaziantep", "غازي عنتاب"),
    "DE": ("Berlin", "برلين"),
    "LB": ("Beirut", "بيروت"),
    "JO": ("Amman", "عمّان"),
    "FR": ("Paris", "باريس"),
    "NL": ("The Hague", "لاهاي"),
    "SE": ("Stockholm", "ستوكهولم"),
    "CH": ("Geneva", "جنيف"),
    "SY": ("Damascus", "دمشق"),
    "BE": ("Brussels", "بروكسل"),
    "IQ": ("Erbil", "أربيل"),
}
SYRIAN_TOWNS = [
    ("Aleppo", "حلب"),
    ("Homs", "حمص"),
    ("Daraa", "درعا"),
    ("Idlib", "إدلب"),
    ("Raqqa", "الرقة"),
    ("Deir ez-Zor", "دير الزور"),
    ("Douma", "دوما"),
    ("Hama", "حماة"),
    ("Qamishli", "القامشلي"),
    ("Latakia", "اللاذقية"),
]
CSO_KINDS = [
    ("Syrian Centre for", "المركز السوري"),
    ("Syrian Network for", "الشبكة السورية"),
    ("Syrian Association for", "الجمعية السورية"),
    ("Syrian Forum for", "المنتدى السوري"),
]
CSO_TOPICS = [
    ("Accountability", "للمساءلة"),
    ("Documentation", "للتوثيق"),
    ("Transitional Justice", "للعدالة الانتقالية"),
    ("Legal Aid", "للمساعدة القانونية"),
    ("Truth and Memory", "للحقيقة والذاكرة"),
    ("Women's Rights", "لحقوق المرأة"),
    ("Civic Action", "للعمل المدني"),
    ("Detainees' Rights", "لحقوق المعتقلين"),
    ("Free Media", "للإعلام الحر"),
    ("Peacebuilding", "لبناء السلام"),
    ("Children's Rights", "لحقوق الطفل"),
    ("Dignity", "للكرامة"),
]
VICTIM_ASSOCIATIONS = [
    ("Association of Families of the Missing in {town}", "رابطة عائلات المفقودين في {town}"),
    ("Network of Detention Survivors, {town}", "شبكة الناجين من الاعتقال في {town}"),
]
INTERNATIONAL_NGOS = [
    ("Justice Across Borders", "العدالة عبر الحدود"),
    ("International Accountability Institute", "المعهد الدولي للمساءلة"),
    ("Global Survivors' Alliance", "التحالف العالمي للناجين"),
    ("Centre for Victims' Rights International", "المركز الدولي لحقوق الضحايا"),
    ("Open Evidence Project", "مشروع الأدلة المفتوحة"),
    ("Rule of Law Partners", "شركاء سيادة القانون"),
    ("Missing Persons Support Network", "شبكة دعم قضايا المفقودين"),
    ("Humanitarian Law Clinic", "عيادة القانون الإنساني"),
]
STATES = [
    ("DE", "Germany", "ألمانيا"),
    ("SE", "Sweden", "السويد"),
    ("FR", "France", "فرنسا"),
    ("NL", "Netherlands", "هولندا"),
    ("NO", "Norway", "النرويج"),
    ("BE", "Belgium", "بلجيكا"),
    ("AT", "Austria", "النمسا"),
    ("CH", "Switzerland", "سويسرا"),
    ("FI", "Finland", "فنلندا"),
    ("DK", "Denmark", "الدنمارك"),
    ("ES", "Spain", "إسبانيا"),
    ("CZ", "Czechia", "تشيكيا"),
]
STATE_BODIES = [
    (
        "War Crimes Unit, Public Prosecution Service ({country})",
        "وحدة جرائم الحرب، النيابة العامة ({country})",
    ),
    (
        "International Crimes Unit, National Police ({country})",
        "وحدة الجرائم الدولية، الشرطة الوطنية ({country})",
    ),
]
UN_ENTITIES = [
    (
        "United Nations Human Rights Office, Syria team",
        "مكتب الأمم المتحدة لحقوق الإنسان، فريق سوريا",
        "OHCHR",
    ),
    (
        "United Nations Children's Fund, regional office",
        "منظمة الأمم المتحدة للطفولة، المكتب الإقليمي",
        "UNICEF",
    ),
    (
        "United Nations Population Fund, regional office",
        "صندوق الأمم المتحدة للسكان، المكتب الإقليمي",
        "UNFPA",
    ),
    ("UN Women, Arab States office", "هيئة الأمم المتحدة للمرأة، مكتب الدول العربية", "UN Women"),
    (
        "Independent Institution on Missing Persons in Syria",
        "المؤسسة المستقلة المعنية بالمفقودين في سوريا",
        "IIMP",
    ),
    ("Commission of Inquiry on Syria, secretariat", "لجنة التحقيق بشأن سوريا، الأمانة", "COI"),
]
INTERNATIONAL_ORGANISATIONS = [
    ("International Commission on Missing Persons", "اللجنة الدولية المعنية بالمفقودين", "ICMP"),
    (
        "European Union Agency for Criminal Justice Cooperation",
        "وكالة الاتحاد الأوروبي للتعاون في مجال العدالة الجنائية",
        "Eurojust",
    ),
    ("Genocide Network secretariat", "أمانة شبكة الإبادة الجماعية", None),
    ("Regional Organisation for Justice Cooperation", "المنظمة الإقليمية للتعاون القضائي", None),
]
ACADEMIC = [
    ("University of Leiden, Centre for International Justice", "جامعة لايدن، مركز العدالة الدولية"),
    ("Geneva Academy of Human Rights Law", "أكاديمية جنيف لقانون حقوق الإنسان"),
    ("Berlin Institute for Conflict Studies", "معهد برلين لدراسات النزاعات"),
    ("Gaziantep Centre for Migration Research", "مركز غازي عنتاب لأبحاث الهجرة"),
]
MEDIA = [
    ("Syrian Independent Radio", "الإذاعة السورية المستقلة"),
    ("Levant Investigative Journalists", "صحفيو المشرق الاستقصائيون"),
]
OTHER = [
    ("Syrian Lawyers' Bar in Exile", "نقابة المحامين السوريين في المهجر"),
    ("Forensic Archive Foundation", "مؤسسة الأرشيف الجنائي"),
]

SECURITY_NOTE = (
    "Based inside Syria; staff at risk. Contact only through the agreed secure channel; "
    "never name in anything published. / مقرّها داخل سوريا والعاملون فيها معرّضون للخطر."
)


@dataclass
class Summary:
    partners: int = 0
    frameworks: int = 0
    engagements: int = 0
    people: int = 0
    follow_ups: int = 0
    password: str = ""
    notes: list[str] = field(default_factory=list)


class Builder:
    """Creates the history through the services, as ``actor``."""

    def __init__(self, actor: Any, today: date) -> None:
        self.actor = actor
        self.today = today
        self.rng = random.Random(SEED)  # noqa: S311 - made-up data, the same every run
        self.summary = Summary()
        self.partners: dict[str, list[Any]] = {}
        self._numbers: dict[int, int] = {}  # framework references: F-2024-007

    # -- partners --

    def partner(self, kind: str, name_en: str, name_ar: str, **values: Any) -> Any:
        from crm.partners.services import create_partner

        partner = create_partner(
            {"type": kind, "name_en": name_en, "name_ar": name_ar, **values}, actor=self.actor
        )
        self.partners.setdefault(kind, []).append(partner)
        self.summary.partners += 1
        return partner

    def build_partners(self) -> None:
        rng = self.rng
        names = [(k[0] + " " + t[0], k[1] + " " + t[1]) for t in CSO_TOPICS for k in CSO_KINDS]
        rng.shuffle(names)
        countries = ["TR", "TR", "TR", "DE", "DE", "FR", "LB", "JO", "SY", "SY", "NL", "SE"]
        for i, (en, ar) in enumerate(names[:45]):
            country = countries[i % len(countries)]
            inside = country == "SY"
            values: dict[str, Any] = {
                "country": country,
                "city": CITIES[country][0],
                "women_led": i % 4 == 0,
                "victim_groups": rng.sample(
                    ["missing_disappeared", "detention_torture", "sgbv", "children_youth"], 2
                ),
                "languages": ["ar", "en"],
            }
            if inside:
                values.update(confidential=True, security_note=SECURITY_NOTE, city=None)
            self.partner("syrian_cso", en, ar, **values)
        for i in range(20):
            town_en, town_ar = SYRIAN_TOWNS[i % len(SYRIAN_TOWNS)]
            pattern_en, pattern_ar = VICTIM_ASSOCIATIONS[i // len(SYRIAN_TOWNS)]
            country = ["TR", "DE", "LB", "FR", "SY"][i % 5]
            values = {
                "country": country,
                "women_led": i % 3 != 2,
                "victim_groups": ["missing_disappeared"] if i < 10 else ["detention_torture"],
                "languages": ["ar"],
            }
            if country == "SY":
                values.update(confidential=True, security_note=SECURITY_NOTE)
            self.partner(
                "victims_association",
                pattern_en.format(town=town_en),
                pattern_ar.format(town=town_ar),
                **values,
            )
        # A chemical attack survivors' association, without an English name yet.
        self.partner(
            "victims_association",
            None,
            "رابطة الناجين من الهجمات الكيميائية",
            country="TR",
            victim_groups=["chemical_attacks"],
            women_led=True,
        )
        for en, ar in INTERNATIONAL_NGOS:
            self.partner("international_ngo", en, ar, country=rng.choice(["CH", "NL", "GB", "DE"]))
        for i, (code, country_en, country_ar) in enumerate(STATES):
            body_en, body_ar = STATE_BODIES[i % 2]
            self.partner(
                "state",
                body_en.format(country=country_en),
                body_ar.format(country=country_ar),
                country=code,
            )
            if i < 6:  # prosecution and police alike
                body_en, body_ar = STATE_BODIES[(i + 1) % 2]
                self.partner(
                    "state",
                    body_en.format(country=country_en),
                    body_ar.format(country=country_ar),
                    country=code,
                )
        for en, ar, acronym in UN_ENTITIES:
            self.partner("un_entity", en, ar, acronym=acronym, country="CH")
        for en, ar, acronym in INTERNATIONAL_ORGANISATIONS:
            self.partner("international_organisation", en, ar, acronym=acronym, country="NL")
        for en, ar in ACADEMIC:
            self.partner("academic", en, ar)
        for en, ar in MEDIA:
            self.partner("media", en, ar, country="TR")
        for en, ar in OTHER:
            self.partner("other", en, ar, country="DE")

    # -- frameworks --

    def framework(
        self, partners: list[Any], instrument: str, signed_on: date | None, **values: Any
    ) -> Any:
        from crm.frameworks.services import create_framework

        self.summary.frameworks += 1
        data = {
            "partner_ids": [p.id for p in partners],
            "instrument": instrument,
            "signed_on": signed_on,
            "status": values.pop("status", "in_force"),
            **values,
        }
        year = signed_on.year if signed_on else self.today.year
        self._numbers[year] = self._numbers.get(year, 0) + 1
        data.setdefault("ref", f"F-{year}-{self._numbers[year]:03d}")
        data.setdefault("title_en", _title_en(instrument, partners[0]))
        data.setdefault("title_ar", _title_ar(instrument, partners[0]))
        data.setdefault("confidential", any(p.confidential for p in partners))
        return create_framework(data, actor=self.actor)

    def build_frameworks(self) -> dict[str, Any]:
        """100 frameworks concluded by the end of 2024 (83 by the end of 2022)."""
        rng = self.rng
        cso, va = self.partners["syrian_cso"], self.partners["victims_association"]
        # The multilateral protocol: 28 organisations, one framework.
        protocol = self.framework(
            cso[:20] + va[:8],
            "protocol",
            date(2018, 11, 12),
            title_en="Protocol of cooperation with Syrian civil society organisations",
            title_ar="بروتوكول التعاون مع منظمات المجتمع المدني السورية",
            purposes="Information sharing, consultation of victims and survivors, mutual support.",
            confidential=False,
        )
        profiles: list[tuple[list[Any], str]] = []
        profiles += [([p], "mou") for p in _cycle(cso, 35, start=5)]
        profiles += [([p], "information_provider_agreement") for p in _cycle(cso, 4, start=1)]
        profiles += [([p], "mou") for p in _cycle(va, 18, start=2)]
        profiles += [([p], "letter_of_understanding") for p in _cycle(va, 2, start=10)]
        profiles += [([p], "mou") for p in _cycle(self.partners["international_ngo"], 4)]
        states = self.partners["state"]
        profiles += [([p], "mou") for p in _cycle(states, 3)]
        profiles += [([p], "cooperation_agreement") for p in _cycle(states, 11, start=3)]
        profiles += [([p], "data_sharing_agreement") for p in _cycle(states, 5, start=14)]
        profiles += [([p], "exchange_of_letters") for p in _cycle(states, 3, start=5)]
        un = self.partners["un_entity"]
        profiles += [([p], "mou") for p in un[:4]] + [
            ([p], "letter_of_understanding") for p in un[4:]
        ]
        io = self.partners["international_organisation"]
        profiles += [([p], "mou") for p in io[:2]] + [
            ([p], "data_sharing_agreement") for p in io[2:]
        ]
        profiles += [([p], "mou") for p in self.partners["academic"][:3]]
        profiles += [([self.partners["other"][0]], "mou")]
        if len(profiles) != 99:  # with the protocol: 100
            raise RuntimeError("the demonstration frameworks do not add up to 100")
        rng.shuffle(profiles)
        per_year = {2018: 8, 2019: 14, 2020: 15, 2021: 21, 2022: 24, 2023: 6, 2024: 11}
        dates = [_day_in(rng, year) for year, n in per_year.items() for _ in range(n)]
        dates.sort()
        made = []
        for i, ((partners, instrument), signed_on) in enumerate(zip(profiles, dates, strict=True)):
            # A review date on some of them, in the months to come.
            review = self.today + timedelta(days=30 + (i * 37) % 330) if i % 6 == 3 else None
            made.append(self.framework(partners, instrument, signed_on, next_review_on=review))
        # Some ended: expired before the end of 2024, terminated, expired since.
        ended = made[:6]
        for f in ended:
            _update(
                f,
                {"status": "expired", "expires_on": f.signed_on + timedelta(days=3 * 365)},
                self.actor,
            )
        _update(made[10], {"status": "terminated", "terminated_on": date(2023, 6, 30)}, self.actor)
        _update(made[11], {"status": "terminated", "terminated_on": date(2024, 12, 31)}, self.actor)
        for f in made[20:23]:
            _update(f, {"status": "expired", "expires_on": date(2025, 3, 31)}, self.actor)
        _update(made[30], {"status": "suspended"}, self.actor)
        # Signed in December 2024, in force from 2025: concluded, not yet in force.
        last = made[-1]
        _update(
            last, {"signed_on": date(2024, 12, 18), "in_force_from": date(2025, 1, 15)}, self.actor
        )
        # Expiring soon or overdue for review, for the dashboard.
        _update(made[40], {"expires_on": self.today + timedelta(days=45)}, self.actor)
        _update(made[41], {"next_review_on": self.today - timedelta(days=20)}, self.actor)
        return {"protocol": protocol, "made": made}

    def build_amendments_and_others(self, frameworks: dict[str, Any]) -> None:
        from crm.frameworks.services import archive_framework, create_amendment

        made = frameworks["made"]
        state_agreement = next(f for f in made if f.instrument.value == "cooperation_agreement")
        renewed_on = max(state_agreement.signed_on, date(2023, 2, 1)) + timedelta(days=30)
        extended_on = made[50].signed_on + timedelta(days=400)
        # A renewal and an extension set the framework's effective expiry (domain.md);
        # an addendum changes none.
        for parent, kind, signed_on, expires_on in (
            (frameworks["protocol"], "addendum", date(2021, 5, 20), None),
            (state_agreement, "renewal", renewed_on, renewed_on + timedelta(days=3 * 365)),
            (made[50], "extension", extended_on, extended_on + timedelta(days=5 * 365)),
        ):
            if kind == "renewal" and parent.status.value == "expired":
                _update(parent, {"status": "in_force"}, self.actor)  # renewed: in force again
            create_amendment(
                parent,
                {
                    "amendment_kind": kind,
                    "signed_on": signed_on,
                    "expires_on": expires_on,
                    "status": "in_force",
                    "ref": f"{parent.ref}-{kind[:3].upper()}",
                    "title_en": f"{kind.capitalize()}: {parent.title_en}",
                    "title_ar": f"{_AMENDMENT_AR[kind]}: {parent.title_ar}",
                },
                actor=self.actor,
            )
            self.summary.frameworks += 1
        cso = self.partners["syrian_cso"]
        # Not concluded: under negotiation, a draft, one recorded in error, a duplicate.
        self.framework([cso[30]], "mou", None, status="negotiation")
        self.framework([self.partners["academic"][3]], "mou", None, status="draft")
        self.framework([cso[31]], "mou", date(2021, 3, 3), status="void", notes="Entered twice.")
        duplicate = self.framework([cso[32]], "mou", date(2022, 7, 7))
        archive_framework(duplicate, actor=self.actor)
        # After 2024.
        for year, n in ((2025, 7), (2026, 4)):
            for _i in range(n):
                signed_on = _day_in(self.rng, year)
                if signed_on >= self.today:
                    continue
                partner = self.rng.choice(cso + self.partners["victims_association"])
                self.framework([partner], "mou", signed_on)

    # -- engagements --

    def engagement(self, **data: Any) -> Any:
        from crm.engagements.services import create_engagement

        self.summary.engagements += 1
        return create_engagement(data, actor=self.actor)

    def _victims_engagement(
        self,
        when: date,
        kind: str,
        fmt: str,
        country: str,
        groups: list[str],
        people: tuple[int, int, int, int],
        **extra: Any,
    ) -> Any:
        en_title, ar_title = _engagement_title(kind, country, groups, self.rng)
        women, men, unspecified, under_18 = people
        partners = self.rng.sample(
            self.partners["victims_association"] + self.partners["syrian_cso"][:10], 2
        )
        data = {
            "title_en": en_title,
            "title_ar": ar_title,
            "category": "victims_survivors",
            "type": kind,
            "format": fmt,
            "status": extra.pop("status", "held"),
            "start_date": when,
            "country": country,
            "city": CITIES.get(country, (None, None))[0],
            "languages": ["ar", "en"] if fmt != "in_person" else ["ar"],
            "victim_groups": groups,
            "strategies": ["victim_centred"] + (["gender"] if "sgbv" in groups else []),
            "organiser": self.rng.choice(["mechanism", "co_organised", "third_party"]),
            "partner_ids": [p.id for p in partners],
            "women": women,
            "men": men,
            "unspecified": unspecified,
            "under_18": under_18,
            "summary_en": (
                "Two-way exchange on the Mechanism's work, questions from participants "
                "and next steps."
            ),
            "summary_ar": "تبادل في الاتجاهين حول عمل الآلية، وأسئلة المشاركين، والخطوات التالية.",
            **extra,
        }
        return self.engagement(**data)

    def build_2024(self, people: list[Any]) -> list[Any]:
        """The 22 engagements with victims and survivors of 2024, and the others."""
        kinds = (
            ["consultation"] * 9
            + ["focus_group"] * 4
            + ["meeting"] * 3
            + ["workshop"] * 3
            + ["platform_meeting"] * 2
            + ["field_visit"]
        )
        formats = ["in_person"] * 14 + ["online"] * 5 + ["hybrid"] * 3
        countries = (
            ["TR"] * 6
            + ["DE"] * 4
            + ["LB"] * 3
            + ["JO"] * 2
            + ["FR"] * 2
            + ["CH"] * 2
            + ["NL", "SE", "SY"]
        )
        groups = (
            [["missing_disappeared"]] * 8
            + [["missing_disappeared", "detention_torture"]] * 4
            + [["detention_torture"]] * 4
            + [["sgbv"]] * 3
            + [["sgbv", "children_youth"]] * 2
            + [["chemical_attacks"]]
        )
        rng = self.rng
        for values in (kinds, formats, groups):
            rng.shuffle(values)
        women = _split(430, 22, rng)
        men = _split(370, 22, rng)
        unspecified = [0] * 22
        for i, n in zip((2, 7, 15), (5, 4, 3), strict=True):
            unspecified[i] = n
        under_18 = [0] * 22
        for i, n in zip((3, 9, 12, 18), (12, 10, 8, 5), strict=True):
            under_18[i] = n
        days = [
            *sorted(_day_in(rng, 2024) for _i in range(20)),
            date(2024, 1, 1),
            date(2024, 12, 31),
        ]
        days.sort()
        made = []
        for i in range(22):
            extra: dict[str, Any] = {}
            if kinds[i] in ("workshop", "field_visit"):
                extra["end_date"] = days[i] + timedelta(days=2)
            if i in (4, 11, 19):
                extra["person_ids"] = [p.id for p in people[: 2 + i % 3]]
            if countries[i] == "SY" and days[i] < date(2024, 12, 8):
                days[i] = date(2024, 12, 16)  # the first visit after the fall of the regime
            made.append(
                self._victims_engagement(
                    days[i],
                    kinds[i],
                    formats[i],
                    countries[i],
                    groups[i],
                    (women[i], men[i], unspecified[i], under_18[i]),
                    **extra,
                )
            )
        # Not counted: cancelled, postponed, other categories.
        self._victims_engagement(
            date(2024, 4, 4),
            "consultation",
            "in_person",
            "LB",
            ["missing_disappeared"],
            (0, 0, 0, 0),
            status="cancelled",
        )
        self._victims_engagement(
            date(2024, 10, 2),
            "focus_group",
            "online",
            "TR",
            ["sgbv"],
            (0, 0, 0, 0),
            status="postponed",
        )
        self._other_engagements(2024, 14)
        return made

    def _other_engagements(self, year: int, n: int) -> None:
        rng = self.rng
        for _i in range(n):
            category = rng.choice(["civil_society", "civil_society", "state", "other"])
            when = _day_in(rng, year)
            if when >= self.today:
                continue
            if category == "state":
                partner = rng.choice(self.partners["state"])
                title_en, title_ar = (
                    f"Briefing for {partner.name_en}",
                    f"إحاطة مقدّمة إلى {partner.name_ar}",
                )
                kind = "briefing"
            elif category == "civil_society":
                partner = rng.choice(
                    self.partners["syrian_cso"] + self.partners["international_ngo"]
                )
                title_en, title_ar = (
                    f"Meeting with {partner.name_en}",
                    f"اجتماع مع {partner.name_ar}",
                )
                kind = "meeting"
            else:
                partner = rng.choice(self.partners["academic"] + self.partners["media"])
                title_en, title_ar = (
                    "Lecture on the Mechanism's mandate",
                    "محاضرة حول ولاية الآلية",
                )
                kind = "other"
            self.engagement(
                title_en=title_en,
                title_ar=title_ar,
                category=category,
                type=kind,
                format=rng.choice(["in_person", "online"]),
                status="held",
                start_date=when,
                country=partner.country or "CH",
                partner_ids=[partner.id],
                women=rng.randint(1, 8),
                men=rng.randint(1, 8),
            )

    def build_years(self) -> None:
        """Engagements of the other years, from 2018 to today."""
        rng = self.rng
        per_year = {2018: 6, 2019: 9, 2020: 7, 2021: 12, 2022: 16, 2023: 19, 2025: 24, 2026: 20}
        for year, n in per_year.items():
            if date(year, 1, 1) >= self.today:
                continue
            for _i in range(n):
                when = _day_in(rng, year)
                if when >= self.today:
                    continue
                online = year in (2020, 2021) and rng.random() < 0.6
                fmt = "online" if online else rng.choice(["in_person", "in_person", "hybrid"])
                kind = rng.choice(
                    [
                        "consultation",
                        "focus_group",
                        "meeting",
                        "workshop",
                        "briefing",
                        "webinar" if online else "field_visit",
                    ]
                )
                country = (
                    "SY"
                    if year >= 2025 and rng.random() < 0.4
                    else rng.choice(["TR", "TR", "DE", "LB", "JO", "FR", "NL", "SE", "IQ"])
                )
                groups = rng.sample(
                    [
                        "missing_disappeared",
                        "detention_torture",
                        "sgbv",
                        "children_youth",
                        "chemical_attacks",
                        "isis_crimes",
                    ],
                    rng.choice([1, 1, 2]),
                )
                women, men = rng.randint(4, 35), rng.randint(3, 30)
                self._victims_engagement(
                    when,
                    kind,
                    fmt,
                    country,
                    groups,
                    (women, men, rng.choice([0, 0, 2]), rng.choice([0, 0, 3, 6])),
                )
            self._other_engagements(year, n // 2 + 3)
        # Planned, in the weeks to come.
        for days in (12, 40):
            self._victims_engagement(
                self.today + timedelta(days=days),
                "consultation",
                "in_person",
                "SY",
                ["missing_disappeared"],
                (0, 0, 0, 0),
                status="planned",
            )

    # -- people and follow-ups --

    def build_people(self) -> list[Any]:
        from crm.people.services import create_person, record_consent

        people = []
        profiles = [
            ("female", "30_44", "rural_damascus", "DE", ["missing_disappeared"]),
            ("male", "45_59", "aleppo", "TR", ["detention_torture"]),
            ("female", "18_29", "daraa", "TR", ["detention_torture", "sgbv"]),
            ("female", "60_plus", "homs", "LB", ["missing_disappeared"]),
            ("male", "30_44", "idleb", "FR", ["chemical_attacks"]),
            ("unknown", "45_59", "deir_ez_zor", "SE", ["isis_crimes"]),
        ]
        for i, (sex, age, governorate, country, groups) in enumerate(profiles):
            person = create_person(
                {
                    "sex": sex,
                    "age_band": age,
                    "governorate_of_origin": governorate,
                    "current_country": country,
                    "victim_groups": groups,
                    "at_risk": i == 2,
                },
                actor=self.actor,
            )
            for scope in ("contact", "use_in_reporting"):
                record_consent(
                    person,
                    {
                        "scope": scope,
                        "granted": True,
                        "on": date(2023, 3, 1) + timedelta(days=30 * i),
                        "method": "written",
                        "language": "ar",
                    },
                    actor=self.actor,
                )
            people.append(person)
            self.summary.people += 1
        return people

    def build_follow_ups(self, engagements: list[Any], frameworks: dict[str, Any]) -> None:
        from crm.followups.services import create_follow_up

        items = [
            (
                {"engagement_id": engagements[-1].id},
                "Send the summary of the consultation in Arabic",
                "إرسال ملخص المشاورة باللغة العربية",
                10,
                "open",
            ),
            (
                {"engagement_id": engagements[-2].id},
                "Answer the families' questions on the search for the missing",
                "الرد على أسئلة العائلات حول البحث عن المفقودين",
                -5,
                "open",
            ),
            (
                {"engagement_id": engagements[0].id},
                "Share the workshop materials",
                "مشاركة مواد ورشة العمل",
                -300,
                "done",
            ),
            (
                {"framework_id": frameworks["made"][41].id},
                "Review the memorandum with the partner",
                "مراجعة مذكرة التفاهم مع الشريك",
                -20,
                "open",
            ),
            (
                {"framework_id": frameworks["made"][40].id},
                "Discuss renewal before expiry",
                "مناقشة التجديد قبل انتهاء المدة",
                30,
                "open",
            ),
        ]
        for subject, en, ar, days, status in items:
            create_follow_up(
                {
                    **subject,
                    "title": f"{en} / {ar}",
                    "due_on": self.today + timedelta(days=days),
                    "status": status,
                },
                actor=self.actor,
            )
            self.summary.follow_ups += 1


_AMENDMENT_AR = {"addendum": "ملحق", "renewal": "تجديد", "extension": "تمديد", "amendment": "تعديل"}
_INSTRUMENT_EN = {
    "mou": "Memorandum of understanding with",
    "information_provider_agreement": "Information provider agreement with",
    "letter_of_understanding": "Letter of understanding with",
    "cooperation_agreement": "Cooperation agreement with",
    "data_sharing_agreement": "Data sharing agreement with",
    "exchange_of_letters": "Exchange of letters with",
    "protocol": "Protocol with",
}
_INSTRUMENT_AR = {
    "mou": "مذكرة تفاهم مع",
    "information_provider_agreement": "اتفاق تقديم معلومات مع",
    "letter_of_understanding": "رسالة تفاهم مع",
    "cooperation_agreement": "اتفاق تعاون مع",
    "data_sharing_agreement": "اتفاق تبادل بيانات مع",
    "exchange_of_letters": "تبادل رسائل مع",
    "protocol": "بروتوكول مع",
}


def _title_en(instrument: str, partner: Any) -> str:
    return f"{_INSTRUMENT_EN[instrument]} {partner.name_en or partner.name_ar}"


def _title_ar(instrument: str, partner: Any) -> str:
    return f"{_INSTRUMENT_AR[instrument]} {partner.name_ar or partner.name_en}"


_ENGAGEMENT_TITLES = {
    "consultation": ("Consultation with {group} in {city}", "مشاورة مع {group} في {city}"),
    "focus_group": ("Focus group with {group}, {city}", "مجموعة نقاش مركّزة مع {group}، {city}"),
    "meeting": ("Meeting with {group} in {city}", "اجتماع مع {group} في {city}"),
    "workshop": (
        "Workshop for {group} on universal jurisdiction, {city}",
        "ورشة عمل {for_group} حول الولاية القضائية العالمية، {city}",
    ),
    "briefing": (
        "Briefing for {group} on the Mechanism's work, {city}",
        "إحاطة {for_group} حول عمل الآلية، {city}",
    ),
    "field_visit": ("Field visit to {group} in {city}", "زيارة ميدانية إلى {group} في {city}"),
    "platform_meeting": ("Lausanne Platform meeting with {group}", "اجتماع منصة لوزان مع {group}"),
    "webinar": (
        "Webinar for {group}: how the Mechanism works with victims",
        "ندوة عبر الإنترنت {for_group}: كيف تعمل الآلية مع الضحايا",
    ),
}
_GROUP_WORDS = {
    "missing_disappeared": ("families of the missing", "عائلات المفقودين"),
    "detention_torture": ("survivors of detention", "الناجين من الاعتقال"),
    "sgbv": ("women survivors", "الناجيات"),
    "children_youth": ("young survivors", "الناجين الشباب"),
    "chemical_attacks": ("survivors of chemical attacks", "الناجين من الهجمات الكيميائية"),
    "isis_crimes": ("survivors of ISIL crimes", "الناجين من جرائم داعش"),
}


def _engagement_title(
    kind: str, country: str, groups: list[str], rng: random.Random
) -> tuple[str, str]:
    en, ar = _ENGAGEMENT_TITLES[kind]
    group_en, group_ar = _GROUP_WORDS[groups[0]]
    city_en, city_ar = CITIES.get(country, ("", ""))
    # The preposition لِـ joins the word, and لِـ + الـ is written لل.
    for_group = "لل" + group_ar[2:] if group_ar.startswith("ال") else "ل" + group_ar
    return en.format(group=group_en, city=city_en), ar.format(
        group=group_ar, for_group=for_group, city=city_ar
    )


def _cycle(items: list[Any], n: int, start: int = 0) -> list[Any]:
    return [items[(start + i) % len(items)] for i in range(n)]


def _day_in(rng: random.Random, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` in ``parts`` whole numbers of similar size."""
    weights = [rng.randint(6, 14) for _ in range(parts)]
    shares = [total * w // sum(weights) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _update(framework: Any, data: dict[str, Any], actor: Any) -> None:
    from crm.frameworks.services import update_framework

    update_framework(framework, data, actor=actor, version=framework.version)


def database_is_empty() -> bool:
    from crm.auth.models import User
    from crm.engagements.models import Engagement
    from crm.extensions import db
    from crm.frameworks.models import Framework
    from crm.partners.models import Partner
    from crm.people.models import Person

    for model in (User, Partner, Framework, Engagement, Person):
        if db.session.execute(select(func.count()).select_from(model)).scalar_one():
            return False
    return True


def build(today: date | None = None) -> Summary:
    """Create the whole history; the caller commits."""
    from crm.auth.services import create_user
    from crm.reports import services as reports
    from crm.reports.counting import Period

    password = secrets.token_urlsafe(18)
    actor = create_user(
        {
            "email": DEMO_EMAIL,
            "name": "Demo focal point",
            "role": "focal_point",
            "locale": "ar",
            "password": password,
        },
        actor=None,
    )
    builder = Builder(actor, today or clock.today())
    builder.summary.password = password
    builder.build_partners()
    frameworks = builder.build_frameworks()
    builder.build_amendments_and_others(frameworks)
    people = builder.build_people()
    engagements_2024 = builder.build_2024(people)
    builder.build_years()
    builder.build_follow_ups(engagements_2024, frameworks)
    for year, fw_target, en_target, fw_base, en_base in (
        (2023, 90, 20, 83, 16),
        (2024, 100, 22, 89, 19),
        (2025, 110, 24, 100, 22),
        (2026, 118, 24, 110, 24),
    ):
        reports.save_setting(
            year,
            {
                "frameworks_target": fw_target,
                "engagements_target": en_target,
                "frameworks_baseline": fw_base,
                "engagements_baseline": en_base,
            },
            actor=None,
        )
    # The 2023 and 2024 figures were published and locked (the 2024 report: 100
    # frameworks, 22 engagements). An engagement of December 2023 was logged after
    # the 2023 lock: the 2023 report shows the restatement. Any record dated 2024
    # entered from now on shows as a restatement of the 2024 report, never silently.
    reports.lock_period(Period.year(2023), actor=None, name="Report on 2023 results")
    reports.lock_period(Period.year(2024), actor=None, name="Report on 2024 results")
    builder._victims_engagement(
        date(2023, 12, 19), "meeting", "online", "DE", ["missing_disappeared"], (6, 4, 0, 0)
    )
    return builder.summary


@click.command("demo")
@with_appcontext
@localized
def demo_command() -> None:
    """Fill an empty database with a bilingual demonstration history (2018 to today)."""
    from crm.cli import ensure_schema
    from crm.reports.counting import Period, report

    ensure_schema()
    if not database_is_empty():
        fail(_("The database is not empty: crm demo only fills an empty database."))
    with unit_of_work():
        summary = build()
        figures = report(Period.year(2024))
    click.echo(
        _(
            "Demonstration data created: %(partners)s partners, %(frameworks)s frameworks, "
            "%(engagements)s engagements, %(people)s people, %(follow_ups)s follow-ups.",
            partners=summary.partners,
            frameworks=summary.frameworks,
            engagements=summary.engagements,
            people=summary.people,
            follow_ups=summary.follow_ups,
        )
    )
    click.echo(
        _(
            "The 2024 report: %(frameworks)s cooperation frameworks, %(engagements)s "
            "engagements with victims and survivors.",
            frameworks=figures["cooperation_frameworks"]["headline"],
            engagements=figures["engagements"]["headline"],
        )
    )
    click.echo(
        _(
            "Sign in as %(email)s with the password %(password)s (shown only this once; "
            "change it after signing in).",
            email=DEMO_EMAIL,
            password=summary.password,
        )
    )
