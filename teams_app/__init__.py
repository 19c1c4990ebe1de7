"""AI Ready: what the app does (domain, use cases, storage, cards, bot turns)."""
