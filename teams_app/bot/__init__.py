"""The bot: Teams activities in, use cases called, Adaptive Cards out."""
