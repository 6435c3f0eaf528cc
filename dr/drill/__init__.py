"""Game-day drills: temporary clones and their cleanup, the drill report (Markdown and JSON), history, findings."""
