"""The code lists of the domain, each value with its label in the user's language.

Codes are what the database, imports, exports and the API carry; labels are what
people read. The Arabic labels live in the catalog next to every other string.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


class Code(StrEnum):
    """A code with a translatable label. Subclasses define ``_labels``."""

    @property
    def label(self) -> Any:
        return type(self)._labels()[self.value]

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[Any]:
        """Options for a WTForms select or checkbox list."""
        from wtforms import SelectChoice

        return [SelectChoice(member.value, member.label) for member in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


class Role(Code):
    ADMIN = "admin"
    OUTREACH = "outreach"
    FOCAL_POINT = "focal_point"
    REPORTING = "reporting"
    VIEWER = "viewer"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "admin": _l("Administrator"),
            "outreach": _l("Outreach officer"),
            "focal_point": _l("Victims and survivors focal point"),
            "reporting": _l("Reporting officer"),
            "viewer": _l("Viewer"),
        }


class PartnerType(Code):
    SYRIAN_CSO = "syrian_cso"
    VICTIMS_ASSOCIATION = "victims_association"
    INTERNATIONAL_NGO = "international_ngo"
    STATE = "state"
    UN_ENTITY = "un_entity"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    ACADEMIC = "academic"
    MEDIA = "media"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "syrian_cso": _l("Syrian civil society organisation"),
            "victims_association": _l("Victim, survivor or family association"),
            "international_ngo": _l("International NGO"),
            "state": _l("State or State authority"),
            "un_entity": _l("UN entity"),
            "international_organisation": _l("International organisation"),
            "academic": _l("Academic institution"),
            "media": _l("Media"),
            "other": _l("Other"),
        }


CIVIL_SOCIETY_TYPES = (
    PartnerType.SYRIAN_CSO,
    PartnerType.VICTIMS_ASSOCIATION,
    PartnerType.INTERNATIONAL_NGO,
)


class Instrument(Code):
    MOU = "mou"
    PROTOCOL = "protocol"
    LETTER_OF_UNDERSTANDING = "letter_of_understanding"
    EXCHANGE_OF_LETTERS = "exchange_of_letters"
    COOPERATION_AGREEMENT = "cooperation_agreement"
    DATA_SHARING_AGREEMENT = "data_sharing_agreement"
    INFORMATION_PROVIDER_AGREEMENT = "information_provider_agreement"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "mou": _l("Memorandum of understanding"),
            "protocol": _l("Protocol"),
            "letter_of_understanding": _l("Letter of understanding"),
            "exchange_of_letters": _l("Exchange of letters"),
            "cooperation_agreement": _l("Cooperation agreement"),
            "data_sharing_agreement": _l("Data sharing agreement"),
            "information_provider_agreement": _l("Information provider agreement"),
            "other": _l("Other"),
        }


class FrameworkStatus(Code):
    DRAFT = "draft"
    NEGOTIATION = "negotiation"
    IN_FORCE = "in_force"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    VOID = "void"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "draft": _l("Draft"),
            "negotiation": _l("In negotiation"),
            "in_force": _l("In force"),
            "suspended": _l("Suspended"),
            "expired": _l("Expired"),
            "terminated": _l("Terminated"),
            "void": _l("Void (recorded in error)"),
        }

    @property
    def is_concluded(self) -> bool:
        return self in CONCLUDED_STATUSES


CONCLUDED_STATUSES = (
    FrameworkStatus.IN_FORCE,
    FrameworkStatus.SUSPENDED,
    FrameworkStatus.EXPIRED,
    FrameworkStatus.TERMINATED,
)


class AmendmentKind(Code):
    AMENDMENT = "amendment"
    ADDENDUM = "addendum"
    RENEWAL = "renewal"
    EXTENSION = "extension"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "amendment": _l("Amendment"),
            "addendum": _l("Addendum"),
            "renewal": _l("Renewal"),
            "extension": _l("Extension"),
        }


class EngagementCategory(Code):
    VICTIMS_SURVIVORS = "victims_survivors"
    CIVIL_SOCIETY = "civil_society"
    STATE = "state"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "victims_survivors": _l("Victims and survivors"),
            "civil_society": _l("Other civil society"),
            "state": _l("States"),
            "other": _l("Other"),
        }


class EngagementType(Code):
    CONSULTATION = "consultation"
    FOCUS_GROUP = "focus_group"
    MEETING = "meeting"
    WORKSHOP = "workshop"
    BRIEFING = "briefing"
    FIELD_VISIT = "field_visit"
    PLATFORM_MEETING = "platform_meeting"
    WEBINAR = "webinar"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "consultation": _l("Consultation"),
            "focus_group": _l("Focus group"),
            "meeting": _l("Meeting"),
            "workshop": _l("Workshop"),
            "briefing": _l("Briefing with questions and answers"),
            "field_visit": _l("Field visit"),
            "platform_meeting": _l("Platform meeting"),
            "webinar": _l("Webinar"),
            "other": _l("Other"),
        }


class EngagementFormat(Code):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {"in_person": _l("In person"), "online": _l("Online"), "hybrid": _l("Hybrid")}


class EngagementStatus(Code):
    PLANNED = "planned"
    HELD = "held"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "planned": _l("Planned"),
            "held": _l("Held"),
            "postponed": _l("Postponed"),
            "cancelled": _l("Cancelled"),
        }


class OrganiserRole(Code):
    MECHANISM = "mechanism"
    CO_ORGANISED = "co_organised"
    THIRD_PARTY = "third_party"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "mechanism": _l("Organised by the Mechanism"),
            "co_organised": _l("Co-organised"),
            "third_party": _l("Organised by a third party"),
        }


class VictimGroup(Code):
    MISSING_DISAPPEARED = "missing_disappeared"
    DETENTION_TORTURE = "detention_torture"
    SGBV = "sgbv"
    CHILDREN_YOUTH = "children_youth"
    CHEMICAL_ATTACKS = "chemical_attacks"
    ISIS_CRIMES = "isis_crimes"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "missing_disappeared": _l("Families of the missing and disappeared"),
            "detention_torture": _l("Survivors of detention and torture"),
            "sgbv": _l("Survivors of sexual and gender-based violence"),
            "children_youth": _l("Children and youth"),
            "chemical_attacks": _l("Survivors of chemical attacks"),
            "isis_crimes": _l("Victims of ISIL (Da'esh) crimes"),
            "other": _l("Other"),
        }


class Strategy(Code):
    VICTIM_CENTRED = "victim_centred"
    GENDER = "gender"
    CHILDREN_YOUTH = "children_youth"
    MISSING_PERSONS = "missing_persons"
    BROADER_JUSTICE = "broader_justice"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "victim_centred": _l("Victim- and survivor-centred approach"),
            "gender": _l("Gender strategy"),
            "children_youth": _l("Children and youth strategy"),
            "missing_persons": _l("Missing persons"),
            "broader_justice": _l("Broader justice"),
        }


class ConsentScope(Code):
    CONTACT = "contact"
    STORE = "store"
    SHARE_WITH_JURISDICTIONS = "share_with_jurisdictions"
    USE_IN_REPORTING = "use_in_reporting"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "contact": _l("Contact"),
            "store": _l("Store personal data"),
            "share_with_jurisdictions": _l("Share with jurisdictions"),
            "use_in_reporting": _l("Use in reporting"),
        }


class ConsentMethod(Code):
    WRITTEN = "written"
    ORAL = "oral"
    ELECTRONIC = "electronic"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {"written": _l("Written"), "oral": _l("Oral"), "electronic": _l("Electronic")}


class Sex(Code):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "female": _l("Female"),
            "male": _l("Male"),
            "other": _l("Other"),
            "unknown": _l("Not known"),
        }


class AgeBand(Code):
    UNDER_18 = "under_18"
    AGE_18_29 = "18_29"
    AGE_30_44 = "30_44"
    AGE_45_59 = "45_59"
    AGE_60_PLUS = "60_plus"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "under_18": _l("Under 18"),
            "18_29": _l("18 to 29"),
            "30_44": _l("30 to 44"),
            "45_59": _l("45 to 59"),
            "60_plus": _l("60 and over"),
        }


class Governorate(Code):
    """The 14 governorates of Syria (English names as in OCHA's usage)."""

    ALEPPO = "aleppo"
    AL_HASAKEH = "al_hasakeh"
    AR_RAQQA = "ar_raqqa"
    AS_SWEIDA = "as_sweida"
    DAMASCUS = "damascus"
    DARAA = "daraa"
    DEIR_EZ_ZOR = "deir_ez_zor"
    HAMA = "hama"
    HOMS = "homs"
    IDLEB = "idleb"
    LATTAKIA = "lattakia"
    QUNEITRA = "quneitra"
    RURAL_DAMASCUS = "rural_damascus"
    TARTOUS = "tartous"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "aleppo": _l("Aleppo"),
            "al_hasakeh": _l("Al-Hasakeh"),
            "ar_raqqa": _l("Ar-Raqqa"),
            "as_sweida": _l("As-Sweida"),
            "damascus": _l("Damascus"),
            "daraa": _l("Dar'a"),
            "deir_ez_zor": _l("Deir-ez-Zor"),
            "hama": _l("Hama"),
            "homs": _l("Homs"),
            "idleb": _l("Idleb"),
            "lattakia": _l("Lattakia"),
            "quneitra": _l("Quneitra"),
            "rural_damascus": _l("Rural Damascus"),
            "tartous": _l("Tartous"),
        }


class FollowUpStatus(Code):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")}


class HeadlineRule(Code):
    CONCLUDED_TO_DATE = "concluded_to_date"
    IN_FORCE_AT_END = "in_force_at_end"
    CIVIL_SOCIETY_TO_DATE = "civil_society_to_date"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "concluded_to_date": _l("Frameworks concluded since the Mechanism began"),
            "in_force_at_end": _l("Frameworks in force at the end of the period"),
            "civil_society_to_date": _l(
                "Frameworks with civil society concluded since the Mechanism began"
            ),
        }


def code_enum(enum_cls: type[Code], length: int = 40) -> Any:
    """A VARCHAR column type with a CHECK constraint listing the codes."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )
