"""The command line: a thin shell over the core (which never imports click or rich)."""
