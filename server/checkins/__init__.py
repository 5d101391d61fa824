"""Check-ins: plans, PINs and contacts (`plans`), schedules (`schedule`), the sweep that
reminds, alerts and clears (`sweep`), and the texts they send (`texts`)."""
