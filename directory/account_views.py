"""Signing in and out, and the site's root, which sends each role to its own home."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from directory.navigation import home_url_for


class LoginForm(AuthenticationForm):
    """Django's own login form with messages in the NHS style (say what to do, not what failed)."""

    error_messages = {
        "invalid_login": "Enter a correct username and password",
        "inactive": "This account has been switched off",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["username"].widget = forms.TextInput(attrs={"autocomplete": "username"})


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default), so a link or a prefetch cannot sign anyone out."""


def root(request: HttpRequest) -> HttpResponse:
    """Signed out: the login page. Signed in: the home page of the user's role."""
    if not request.user.is_authenticated:
        return redirect("login")
    home = home_url_for(request.user)
    if home is None:
        return render(request, "no_page_for_role.html", status=403)
    return redirect(home)
