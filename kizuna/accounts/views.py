"""Log-in with throttling: a desk that speaks for the company is worth guessing passwords for."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _keys(request: HttpRequest) -> list[str]:
    username = str(request.POST.get("username", "")).strip().casefold()[:150]
    address = str(request.META.get("REMOTE_ADDR", ""))
    return [f"kizuna:login:user:{username}", f"kizuna:login:ip:{address}"]


class LoginView(auth_views.LoginView):
    """Django's login, refusing a user name or address after MAX_FAILURES failures in WINDOW_SECONDS."""

    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if any(cache.get(key, 0) >= MAX_FAILURES for key in _keys(request)):
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form, throttled=True)
            context["throttle_message"] = _("Too many failed attempts. Wait 15 minutes and try again.")
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        for key in _keys(self.request):
            cache.add(key, 0, WINDOW_SECONDS)
            cache.incr(key)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        cache.delete(_keys(self.request)[0])
        return super().form_valid(form)
