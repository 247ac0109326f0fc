"""The embedded default scenario, exactly as DESIGN.md section 4 gives it."""

DEFAULT_SCENARIO_TOML = """\
name = "default"
[policy]
name = "pavilion"
min_active = 2
max_active = 3
min_waiting = 1
max_waiting = 3
[workload]
arrivals = { mode = "pooled", rate_per_hour = 48 }
waiting_patience_s = { dist = "exponential", mean = 600 }
waiting_exit = { submitted = 0.5, returned = 0.3, abandoned = 0.2 }
active_duration_s = { dist = "exponential", mean = 900 }
active_exit = { submitted = 0.8, returned = 0.1, abandoned = 0.1 }
abandon_detection_s = { dist = "constant", value = 30 }
hire_delay_s = { dist = "constant", value = 0 }
assignment_duration_s = 1800
abandoned_slot_reopens = "at_deadline"
[payment]
reward = 0.10                  # per submitted slot
waiting_wage_per_hour = 7.25   # paid for time waited, to workers who submit
active_wage_per_hour = 12.0
platform_fee = 0.20
[run]
horizon_s = 28800
warmup_s = 0
replications = 20
seed = 1
"""
