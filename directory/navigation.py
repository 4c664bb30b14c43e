"""Each role's home page and header links, for the pages and the templates that extend base.html."""

from __future__ import annotations

from django.urls import reverse

from directory import permissions


def home_url_for(user) -> str | None:
    """Where the site's root sends a signed-in user; None when no page suits their role."""
    if permissions.is_operator(user):
        return reverse("admin:index")
    if permissions.can_use_crew_pages(user):
        return reverse("search")
    if permissions.can_use_partner_pages(user):
        return reverse("inbox")
    if permissions.can_read_reports(user):
        return "/reports/"
    return None


def _links_for(user, path: str) -> list[dict]:
    links: list[tuple[str, str]] = []
    if permissions.can_use_crew_pages(user):
        links += [(reverse("search"), "Find a service"), (reverse("my-referrals"), "My referrals")]
    if permissions.can_use_partner_pages(user):
        links += [(reverse("inbox"), "Inbox"), (reverse("capacity"), "Capacity")]
    if permissions.can_read_reports(user):
        links.append(("/reports/", "Reports"))
    if permissions.can_use_admin(user):
        links.append((reverse("admin:index"), "Listings and settings (admin)"))
    return [{"href": href, "text": text, "current": path.startswith(href)} for href, text in links]


def navigation(request) -> dict:
    """Context processor: the header's links for whoever is signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "home_url": reverse("login")}
    return {
        "nav_links": _links_for(user, request.path),
        "home_url": home_url_for(user) or reverse("login"),
    }
