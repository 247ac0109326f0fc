"""A faithful local emulator of the MTurk Requester API (2017-01-17), its worker side and its notifications.

Import what you need from the submodules (kept light so `pavilion --help` stays fast):
`emulator.Emulator`, `clock.ManualClock`, `notifications.Chaos`, `server.serve`, `server.running_emulator`.
"""
