"""Resumable photo uploads: the IETF HTTP working group's draft and tus 1.0, on the photo store.

An upload resource is a row (`uploads`) and its bytes are parts in the photo store, one per request
that brought any (`upload_parts`); once the last byte is there, the parts are read back in order
through `installs.evidence.upload_photo`, the path of a single PUT. Imports no Litestar.
"""
