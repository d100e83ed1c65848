"""Sign-in and first-run forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from .passwords import MIN_PASSWORD_LENGTH

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SetupForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="Use letters, digits, and . _ @ - (up to 64 characters)."),
        ],
    )
    email = EmailField("E-mail (optional)", validators=[Optional(), Length(max=320)])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=1024, message=f"At least {MIN_PASSWORD_LENGTH} characters."),
        ],
    )
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )
    setup_code = StringField(
        "Setup code",
        validators=[Optional(), Length(max=64)],  # after a data loss only
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )


class TwoFactorForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=64)])
    trust = BooleanField("Trust this device for 30 days")
