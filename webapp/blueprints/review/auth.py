"""Reviewer login and logout: failures throttled per IP hash, an account under attack
slowed down (never locked), a fresh session on login, and a rotated session token on
logout so a saved cookie stops working.

Anyone may type a reviewer's name, so an account's failures must never refuse its right
password: that would let anyone lock a reviewer out. Per address, failed attempts are
limited (SPEC §8, 429); per account, failures past the same allowance make every attempt
on it wait, longer each time, up to LOGIN_SLOWDOWN_MAX seconds. Attempts are counted
before the password is checked, so parallel guesses see each other, and a successful
login takes its count back: successes never count.
"""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from webapp import fields
from webapp.blueprints.review import bp, reviewer
from webapp.errors import rate_limited
from webapp.extensions import db
from webapp.models import utcnow
from webapp.security import TYPED_ON_THE_DASHBOARD
from webapp.services import accounts, privacy

LOGIN_NAME_MAX = 80


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the dashboard: never another host, never login/logout."""
    if not target or not target.startswith("/review") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path in (url_for("review.login"), url_for("review.logout")):
        return None
    return target


def _login_page(status: int = 200, *, error: str | None = None, name: str = "",
                next_url: str | None = None, unsent: tuple[str, ...] = ()):
    next_url = next_url or _safe_next(request.values.get("next"))
    return render_template("review/login.html", error=error, name=name,
                           next_url=next_url, unsent=unsent), status


def _unsent() -> tuple[str, ...]:
    """What a reviewer typed on the refused form (a decision's note or reason, a feedback
    resolution), shown back when the form arrives after its session ended."""
    return tuple(text for name in TYPED_ON_THE_DASHBOARD
                 if (text := (request.form.get(name) or "").strip())
                 and not (name == "reason" and text == "written"))  # "written below"


def unsent_text() -> str:
    """What the refused form held, for a one-line message ("" when nothing was typed)."""
    unsent = _unsent()
    return f" What you wrote, not sent: “{' / '.join(unsent)}”." if unsent else ""


def session_ended_page():
    """The login page for a form sent after its session ended: 401, nothing done, what
    was written shown to copy, and back to the page it was sent from after logging in."""
    return _login_page(
        401, error="Your reviewer session has ended (a login from another browser, a "
                   "logout, or a disabled account), so nothing was done. Log in and send "
                   "it again.", next_url=_came_from(), unsent=_unsent())


def login_url_back() -> str:
    """The login page, returning after login to the page the refused form was on."""
    came_from = _came_from()
    return url_for("review.login", next=came_from) if came_from else url_for("review.login")


def _came_from() -> str | None:
    back = urlsplit(request.referrer or "")
    return _safe_next(back.path + (f"?{back.query}" if back.query else ""))


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _count_attempt(name: str, now: datetime) -> tuple[str, bool, float]:
    """Count a login attempt before its password is checked: (the IP hash, whether the
    address is over its limit, the seconds the account's recent failures make it wait)."""
    ip_hash = privacy.ip_hash(db.session, privacy.client_address(request), now)
    if privacy.hit(db.session, "login", f"ip:{ip_hash}", now):
        return ip_hash, True, 0.0
    if not name:
        return ip_hash, False, 0.0
    config = current_app.config
    delay = accounts.login_delay(
        privacy.attempts(db.session, "login", f"account:{name}", now),
        allowance=privacy.limit_of("login").limit,
        base=float(config["LOGIN_SLOWDOWN_BASE"]), longest=float(config["LOGIN_SLOWDOWN_MAX"]))
    # every attempt on the account counts, past the allowance too: each waits longer
    privacy.hit(db.session, "login", f"account:{name}", now, keep_over=True)
    return ip_hash, False, delay


def _take_back(name: str, ip_hash: str, now: datetime) -> None:
    """A successful login does not count against the address or the account."""
    privacy.refund(db.session, "login", f"ip:{ip_hash}", now)
    privacy.refund(db.session, "login", f"account:{name}", now)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("review.queue"))
        return _login_page()

    name = accounts.normalise_name(request.form.get("name"))[:LOGIN_NAME_MAX]
    password = request.form.get("password", "")
    if not name or not password:
        # Said here, not by the browser's own bubble (the form is novalidate); nothing
        # to count as an attempt.
        return _login_page(422, error="Enter your reviewer name and your password.",
                           name="".join(ch for ch in name if ch.isprintable()))
    if fields.has_control_characters(name) or fields.has_control_characters(password):
        # No account name or password holds one (a paste carried it); refused before the
        # attempt is counted, so the byte never reaches the database or the log.
        return _login_page(422, error="The name or the password holds a control character "
                                      "(such as a NUL): type them again.",
                           name="".join(ch for ch in name if ch.isprintable()))
    now = utcnow()
    ip_hash, throttled, delay = _count_attempt(name, now)
    db.session.commit()  # counted for every worker, and no lock is held through the wait
    if throttled:
        current_app.logger.warning(
            "review login throttled: account=%r ip_hash=%s", name, ip_hash)
        retry = rate_limited("login", f"ip:{ip_hash}", now)["retry"]  # and Retry-After
        message = (f"Too many login attempts from your network "
                   f"({privacy.limit_label('login')} allowed). You can try again "
                   f"{retry.words}, from about {retry.at.strftime('%Y-%m-%d %H:%M')} UTC.")
        return _login_page(429, error=message, name=name)
    _pause(delay)

    account = accounts.authenticate(db.session, name, password)
    if account is None:
        db.session.commit()
        current_app.logger.warning("review login failed: account=%r ip_hash=%s", name, ip_hash)
        return _login_page(401, error="That name and password do not match an active "
                                      "reviewer account.", name=name)

    _take_back(name, ip_hash, now)
    accounts.rotate_session(account)
    account.last_login_at = now
    db.session.commit()
    next_url = _safe_next(request.form.get("next"))
    session.clear()  # a fresh session: nothing from before the login carries over
    login_user(account)
    return redirect(next_url or url_for("review.queue"), code=303)


@bp.post("/logout")
def logout():
    accounts.rotate_session(reviewer())  # a saved copy of this session's cookie stops working
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("review.login"), code=303)
