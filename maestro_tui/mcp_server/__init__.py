"""`maestro-tui mcp`: maestro as tools for a coding agent that stays in charge (Claude Code,
Codex, Gemini CLI …), over the Model Context Protocol on stdio.

A front end beside ui/ and headless/: it drives the same session layer, engine and store. The
agent consults other models for text advice, asks for ensembles, selects among candidates by
tests, packs context, follows the five-stage workflow within its budgets, and launches and
decides fleets of agents. Everything it does is recorded as a run of kind "mcp".
"""
