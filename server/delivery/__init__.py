"""Outbound delivery: the outbox and everything that takes its messages to a provider.

`outbox` (queueing, once per cause), `claims` (due rows at the sender's pace), `admission`
(consent, opt-out, allow-list, caps), `records` (the provider's answers and status callbacks),
`reconciliation` (attempts whose outcome was lost), `provider_copies` (deleting the provider's
records, purging), `channels` (the Channel protocol, its types, the console channel), `twilio`
(the Twilio channel and every Twilio convention), and `worker` (the loop that drives them).
"""
