"""Signing in and out, the account page, re-authentication and first set-up."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from crm.auth import bp
from crm.auth import services as auth
from crm.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    PreferencesForm,
    ReauthForm,
    SetupForm,
)
from crm.errors import ValidationError
from crm.extensions import login_manager
from crm.security import login_only, public, safe_next


@login_manager.user_loader
def _load_user(token: str) -> Any:
    return auth.load_session(token)


def _sign_in(user: Any) -> None:
    session.clear()  # a new session at every sign-in: nothing carried over
    session["locale"] = user.locale
    auth.start_session(user)
    login_user(user, remember=False)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr
        throttle = auth.check_throttle(form.email.data, address)
        if throttle.blocked:
            form.form_errors.append(
                ngettext(
                    "Too many failed attempts. Try again in %(num)d minute.",
                    "Too many failed attempts. Try again in %(num)d minutes.",
                    throttle.retry_minutes,
                )
            )
            status = 429
        else:
            user = auth.authenticate(form.email.data, form.password.data, address)
            if user is not None:
                _sign_in(user)
                return redirect(safe_next(form.next.data))
            form.form_errors.append(_("The e-mail address or the password is not right."))
            status = 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_only
def logout() -> Any:
    auth.end_session(current_user.get_id(), reason="logout")
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    flash(_("You have signed out."), "info")
    return response


@bp.get("/account")
@login_only
def account() -> Any:
    """The signed-in user's language, digits and password."""
    return _account_page(
        PreferencesForm(prefix="prefs", obj=current_user), ChangePasswordForm(prefix="pw")
    )


def _account_page(prefs: PreferencesForm, password_form: ChangePasswordForm) -> Any:
    status = 422 if (prefs.errors or password_form.errors) else 200
    return render_template("auth/account.html", prefs=prefs, password_form=password_form), status


@bp.post("/account/preferences")
@login_only
def preferences() -> Any:
    prefs = PreferencesForm(prefix="prefs")
    if prefs.validate_on_submit():
        try:
            auth.update_preferences(
                current_user,
                locale=prefs.locale.data,
                digits=prefs.digits.data,
                timezone=prefs.timezone.data,
            )
        except ValidationError as exc:
            exc.apply_to_form(prefs)
        else:
            session["locale"] = prefs.locale.data
            flash(_("Your preferences are saved."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(prefs, ChangePasswordForm(prefix="pw", formdata=None))


@bp.post("/account/password")
@login_only
def change_password() -> Any:
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            auth.change_own_password(
                current_user, password_form.current_password.data, password_form.new_password.data
            )
        except ValidationError as exc:
            # Policy messages concern the new password; others name their field.
            for name, messages in exc.errors.items():
                target = "current_password" if name == "current_password" else "new_password"
                getattr(password_form, target).errors = list(messages)
        else:
            # Every session ended with the change; this browser signs in afresh.
            _sign_in(current_user._get_current_object())
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("auth.account"))
    prefs = PreferencesForm(prefix="prefs", obj=current_user, formdata=None)
    return _account_page(prefs, password_form)


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_only
def reauthenticate() -> Any:
    """Confirm the password before exporting, erasing or overriding consent."""
    form = ReauthForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if auth.reauthenticate(current_user, form.password.data):
            return redirect(safe_next(form.next.data))
        form.password.errors = [_("The password is not right.")]
    return render_template("auth/reauthenticate.html", form=form)


@bp.route("/setup/<token>", methods=["GET", "POST"])
@public
def setup(token: str) -> Any:
    """Create the first administrator with the one-time token printed at start."""
    if not auth.setup_token_valid(token):
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = auth.create_first_admin(
                token,
                {
                    "email": form.email.data,
                    "name": form.name.data,
                    "password": form.new_password.data,
                    "locale": str(session.get("locale") or "ar"),
                },
            )
        except ValidationError as exc:
            for name, messages in exc.errors.items():
                target = "new_password" if name == "password" else name
                field = getattr(form, target, None)
                if field is not None:
                    field.errors = list(messages)
                else:
                    form.form_errors.extend(messages)
        else:
            _sign_in(user)
            flash(_("Welcome. Your administrator account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/setup.html", form=form)
