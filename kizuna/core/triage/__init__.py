"""Triage: decide each post (intent, response, risk) with reasons; pure core, no Django."""
