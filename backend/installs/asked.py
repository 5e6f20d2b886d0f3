"""What a specialist's open request for information asks, and what of it is given (pure: reads rows).

A request may ask for an extra photo (to the slot `extra_<request id>`, described in the specialist's
words) and/or a question. It is open while the install waits for its customer (needs_retake, awaiting
info) and until everything it asked is given; a photo counts as given once none of its checks asks for a
retake the customer can make."""

from __future__ import annotations

from backend.installs.records import CheckRec, EventRec, InfoRequestRec, InstallRec, PhotoRec

EXTRA_SLOT_PREFIX = "extra_"
# Evidence a submit judges: recorded after a submit (or a specialist's request), a new submit is a new attempt.
EVIDENCE_ACTIONS = frozenset({"label.scanned", "location.reported", "reading.entered", "photo.uploaded"})


def extra_slot(request_id: int) -> str:
    """The ad-hoc photo slot of a request (the path the app PUTs the extra photo to)."""
    return f"{EXTRA_SLOT_PREFIX}{request_id}"


def open_request(install: InstallRec, requests: list[InfoRequestRec]) -> InfoRequestRec | None:
    """The request the customer must still answer: the newest, while the install waits for them."""
    if not install.awaiting_info or install.state != "needs_retake" or not requests:
        return None
    return requests[-1] if requests[-1].closed_at is None else None


def asks_anything(request: InfoRequestRec) -> bool:
    """Whether it asks for something in particular (else it is a retake in words: the customer resubmits)."""
    return request.photo_label is not None or request.question is not None


def asked_photo_slot(install: InstallRec, requests: list[InfoRequestRec], slot: str) -> bool:
    """`slot` is the extra photo the open request asks for."""
    request = open_request(install, requests)
    return request is not None and request.photo_label is not None and slot == extra_slot(request.id)


def extra_photo(request: InfoRequestRec, photos: list[PhotoRec]) -> PhotoRec | None:
    """The request's extra photo as it now is (`photos`: the current ones)."""
    return next((p for p in photos if p.slot == extra_slot(request.id)), None)


def retakes(photo: PhotoRec, checks: list[CheckRec]) -> list[CheckRec]:
    """The photo's checks that ask for a retake the customer can make."""
    return [c for c in checks if c.photo == photo.id and c.status != "pass" and c.user_fixable]


def missing(request: InfoRequestRec, photos: list[PhotoRec], checks: list[CheckRec]) -> list[str]:
    """What the request still waits for: 'photo' (none yet, or one to retake) and/or 'answer'."""
    out = []
    if request.photo_label is not None:
        photo = extra_photo(request, photos)
        if photo is None or retakes(photo, checks):
            out.append("photo")
    if request.question is not None and request.answer is None:
        out.append("answer")
    return out


def changed_since_request(events: list[EventRec]) -> bool:
    """Whether evidence was recorded after the specialist's latest decision (a resubmit would judge
    something new); with no decision by a specialist, nothing holds a submit back."""
    for event in reversed(events):
        if event.action in EVIDENCE_ACTIONS:
            return True
        if event.action == "review.decided":
            return False
    return True
