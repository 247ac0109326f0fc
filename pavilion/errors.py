"""The one exception for bad user input: the command line prints it on one line and exits with status 2."""


class InputError(ValueError):
    """Bad user input (a scenario key, a flag value, a path); the message names the bad input."""
