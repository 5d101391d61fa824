"""Signals for partners: what people ask Refuge for, counted without showing anyone.

`words` (pure: the folded words of a rumour check that may be counted), `counting` (what the
conversation adds to the daily tallies, and the sightings of rumour words kept as keyed
digests until ten numbers have sent a word), `report` (the published table of one account's
regions, per week), `suppression` (pure: which cells are withheld, so that no filter, nor any
combination of them, reveals a count under ten by differencing), `charts` (pure: small SVG
bar charts drawn on the server). The portal's `/portal/signals` pages sit on top.

This package is empty on purpose: the pure engine imports `signals.words` alone, without the
database.
"""
