"""Pages where a user manages their API tokens, and an administrator everyone's.

A token is shown once, on the page that answers its creation (never in a
redirect or the session cookie); afterwards only its first characters are.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crm.api import tokens_bp as bp
from crm.api.forms import AdminTokenForm, RevokeForm, TokenForm
from crm.api.models import ApiToken
from crm.api.services import (
    SCOPE_LABELS,
    all_tokens,
    create_token,
    revoke_token,
    token_status,
    tokens_of,
)
from crm.auth.models import User
from crm.errors import ValidationError
from crm.extensions import db
from crm.forms import choices
from crm.security import Permission, require


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "scope_labels": SCOPE_LABELS,
        "token_status": token_status,
        "revoke_form": RevokeForm(),
        **extra,
    }


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@require(Permission.API_TOKENS)
def mine() -> Any:
    """The signed-in user's tokens, and a form to create one."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = create_token(
                current_user._get_current_object(),
                {
                    "name": form.name.data,
                    "scope": form.scope.data,
                    "expires_on": form.expires_on.data,
                },
                actor=current_user,
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            return render_template(
                "api/token_created.html",
                token=token,
                secret=secret,
                back=url_for("api.tokens.mine"),
                **_context(),
            )
    tokens = tokens_of(current_user._get_current_object())
    return render_template("api/tokens.html", form=form, tokens=tokens, **_context()), (
        400 if form.errors else 200
    )


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@require(Permission.API_TOKENS)
def revoke_mine(token_id: int) -> Any:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if RevokeForm().validate_on_submit():
        revoke_token(token, actor=current_user)
        flash(
            _("The token “%(name)s” is revoked: it no longer opens the API.", name=token.name),
            "success",
        )
    return redirect(url_for("api.tokens.mine"))


def _accounts() -> list[Any]:
    users = db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name)
    ).scalars()
    return choices([(u.id, f"{u.name} <{u.email}>") for u in users])


@bp.route("/admin/api-tokens", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def admin() -> Any:
    """Every live token (and the revoked ones with ?all=1); create one for any account."""
    form = AdminTokenForm()
    form.user_id.choices = _accounts()
    if form.validate_on_submit():
        owner = db.session.get(User, form.user_id.data)
        if owner is None or not owner.active:
            form.user_id.errors = [_("Choose an active account.")]
        else:
            try:
                token, secret = create_token(
                    owner,
                    {
                        "name": form.name.data,
                        "scope": form.scope.data,
                        "expires_on": form.expires_on.data,
                    },
                    actor=current_user,
                )
            except ValidationError as exc:
                exc.apply_to_form(form)
            else:
                return render_template(
                    "api/token_created.html",
                    token=token,
                    secret=secret,
                    owner=owner,
                    back=url_for("api.tokens.admin"),
                    **_context(),
                )
    include_revoked = request.args.get("all") == "1"
    rows = all_tokens(actor=current_user, include_revoked=include_revoked)
    return render_template(
        "api/admin_tokens.html", form=form, rows=rows, include_revoked=include_revoked, **_context()
    ), (400 if form.errors else 200)


@bp.post("/admin/api-tokens/<int:token_id>/revoke")
@require(Permission.USERS_MANAGE)
def revoke_any(token_id: int) -> Any:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if RevokeForm().validate_on_submit():
        revoke_token(token, actor=current_user)
        flash(
            _("The token “%(name)s” is revoked: it no longer opens the API.", name=token.name),
            "success",
        )
    return redirect(url_for("api.tokens.admin"))
