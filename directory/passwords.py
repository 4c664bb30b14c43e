"""What a password change does besides changing the password."""

from __future__ import annotations


class RevokeTokensOnPasswordChange:
    """Listed in AUTH_PASSWORD_VALIDATORS for its hook, not as a check.

    Django calls every validator's password_changed() when a user whose password was set
    is saved, whichever way it was set (admin, changepassword, a page, set_password in
    code). A changed password must end every device's session too: all the user's API
    tokens are revoked. (Browser sessions already end: Django's session hash changes.)
    """

    def validate(self, password: str, user=None) -> None:
        return None

    def password_changed(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        from directory.tokens import tokens_revoke_all

        tokens_revoke_all(user=user)

    def get_help_text(self) -> str:
        return ""
