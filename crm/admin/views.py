"""Account administration."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from crm.admin import bp
from crm.admin.forms import ConfirmForm, NewUserForm, ResetPasswordForm, UserForm
from crm.auth import services as auth
from crm.auth.models import User, UserSession
from crm.codes import Role
from crm.errors import ValidationError
from crm.extensions import db
from crm.security import Permission, require


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@require(Permission.USERS_MANAGE)
def users() -> Any:
    role = request.args.get("role")
    query = select(User).order_by(User.active.desc(), User.name)
    if role in Role.values():
        query = query.where(User.role == role)
    rows = db.session.execute(query).scalars().all()
    live = dict(
        db.session.execute(
            select(UserSession.user_id, func.count())
            .where(UserSession.ended_at.is_(None))
            .group_by(UserSession.user_id)
        ).all()
    )
    return render_template("admin/users.html", users=rows, live=live, role=role, roles=Role)


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def user_new() -> Any:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = auth.create_user(
                {
                    "name": form.name.data,
                    "email": form.email.data,
                    "role": form.role.data,
                    "locale": form.locale.data,
                    "password": form.password.data,
                },
                actor=current_user,
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The account of %(name)s is created.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def user_edit(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            auth.update_user(
                user,
                {
                    "name": form.name.data,
                    "email": form.email.data,
                    "role": form.role.data,
                    "locale": form.locale.data,
                    "active": form.active.data,
                },
                actor=current_user,
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The account of %(name)s is saved.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=ResetPasswordForm(prefix="reset"),
        confirm_form=ConfirmForm(),
    )


@bp.post("/users/<int:user_id>/password")
@require(Permission.USERS_MANAGE)
def user_reset_password(user_id: int) -> Any:
    user = _user_or_404(user_id)
    reset_form = ResetPasswordForm(prefix="reset")
    if reset_form.validate_on_submit():
        try:
            auth.set_password(user, reset_form.password.data, actor=current_user)
        except ValidationError as exc:
            reset_form.password.errors = [m for msgs in exc.errors.values() for m in msgs]
        else:
            flash(
                _(
                    "The password of %(name)s is reset and their sessions have ended.",
                    name=user.name,
                ),
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return (
        render_template(
            "admin/user_form.html",
            form=UserForm(obj=user),
            user=user,
            reset_form=reset_form,
            confirm_form=ConfirmForm(),
        ),
        400,
    )


@bp.post("/users/<int:user_id>/sessions/end")
@require(Permission.USERS_MANAGE)
def user_end_sessions(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        count = auth.end_all_sessions(user, reason="ended_by_admin", actor=current_user)
        message = ngettext(
            "%(num)d session of %(name)s has ended.",
            "%(num)d sessions of %(name)s have ended.",
            count,
            name=user.name,
        )
        flash(message, "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
