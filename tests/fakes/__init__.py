"""Fakes for what lives outside this machine, each a real server on 127.0.0.1."""
