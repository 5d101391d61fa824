"""The check-in simulation of issue 15: weeks of virtual time, a few hundred people, and the
invariants checked after every step."""
