"""Resumable uploads (IETF draft and tus) and the parts of their bytes. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table


class Upload(Table, tablename="uploads"):
    """One photo arriving over several requests: whose it is, where it goes, and how far it got.

    `received` only ever grows, by a compare-and-set that also names the `lease` of the request
    appending (a newer request for the same upload takes the lease over, so an older one that is
    still finishing can no longer commit). `photo` is set once the bytes went through the upload
    path of a single PUT and a photo row exists."""

    id = UUID(primary_key=True)  # random: the upload's URL is hard to guess, and still needs its owner
    owner_subject = Varchar(length=128)
    install = UUID()
    slot = Varchar(length=40)
    content_type = Varchar(length=100)
    protocol = Varchar(length=8)  # "ietf" | "tus": which headers its answers carry
    declared_length = BigInt(null=True, default=None)  # Upload-Length (or Content-Length with Upload-Complete: ?1)
    received = BigInt(default=0)
    lease = Varchar(length=32, null=True, default=None)  # the request appending now
    complete = Boolean(default=False)
    photo = Integer(null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)  # the sweep deletes it (and its parts) after this


class UploadPart(Table, tablename="upload_parts"):
    """A contiguous piece of an upload's bytes, stored in the photo store under `name`."""

    upload = ForeignKey(Upload, on_delete=OnDelete.cascade, index=True)
    first_byte = BigInt()
    size = BigInt()
    name = Varchar(length=120, unique=True)
