"""Sending email: SMTP in production, the console in development, memory in tests.

Messages are keyed: a key that was sent once is never sent again (see SentMessage), so a
command run twice by cron sends nothing new.
"""

import smtplib
import sys
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import SentMessage, now_utc

#: Messages "sent" with the memory backend, for tests.
outbox: list[EmailMessage] = []


def already_sent(key: str) -> bool:
    sent = db.session.scalars(select(SentMessage.id).where(SentMessage.key == key)).first()
    return sent is not None


def build_message(
    to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]] = ()
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, subtype = mimetype.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def deliver(message: EmailMessage) -> None:
    """Hand one message to the configured backend."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        outbox.append(message)
    elif backend == "console":
        sys.stdout.write(message.as_string() + "\n")
    elif backend == "smtp":
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


def send_once(key: str, message: EmailMessage) -> bool:
    """Send ``message`` unless ``key`` was sent before; record it. Returns whether it was sent.

    The record is flushed before delivery, so a failure to deliver rolls it back with the
    caller's transaction.
    """
    if already_sent(key):
        return False
    db.session.add(SentMessage(key=key, recipient=str(message["To"]), sent_at=now_utc()))
    db.session.flush()
    deliver(message)
    return True
