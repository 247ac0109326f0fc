"""A local emulator of Prolific's researcher API: studies, submissions, bonuses, signed webhooks, participants."""
