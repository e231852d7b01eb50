"""Follow-up forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.codes import FollowUpStatus
from crm.engagements.forms import DATE_FORMAT, Required
from crm.forms import LocalDateField, VersionedForm


class FollowUpForm(VersionedForm):
    title = StringField(_l("What needs to be done"), validators=[Required(), Length(max=300)])
    description = TextAreaField(_l("Details"), render_kw={"rows": 4})
    due_on = LocalDateField(
        _l("Due on"), validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    assignee_id = SelectField(_l("Assigned to"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), choices=FollowUpStatus.choices())

    SERVICE_FIELDS = ("title", "description", "due_on", "assignee_id", "status")
