"""Customers told what happens to their install, in their language, on their channel (issue 13).

Other domains call `service.notify` inside the transaction of what it tells (a notification outbox,
one row per event and channel); `sender.send_round` delivers the pending rows in the background.
"""
