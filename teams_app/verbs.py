"""Every ``Action.Execute`` verb the cards use, in one place.

The bot registers exactly one handler per verb, and a test checks that every verb found in a
card template has a handler and every handler's verb appears in some card.
"""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    """``Action.Execute`` verbs."""

    CHOOSE_ROLE = "choose_role"
    SHOW_ROLE = "show_role"
    START_ASSESSMENT = "start_assessment"
    ANSWER = "answer"
    CONTINUE = "continue"
    SHOW_RESULTS = "show_results"
    START_LESSON = "start_lesson"
    START_QUIZ = "start_quiz"
    SHOW_PROGRESS = "show_progress"
    SHOW_HELP = "show_help"
    RESET = "reset"
    CONFIRM_RESET = "confirm_reset"
    CANCEL_RESET = "cancel_reset"
    DELETE_MY_DATA = "delete_my_data"
    CONFIRM_DELETE_DATA = "confirm_delete_data"
    SUBMIT_PULSE = "submit_pulse"
    START_REVIEW = "start_review"
    SHOW_CHALLENGE = "show_challenge"
    COMPLETE_CHALLENGE = "complete_challenge"
    SKIP_CHALLENGE = "skip_challenge"
    SHOW_SETTINGS = "show_settings"
    SAVE_SETTINGS = "save_settings"
    PAUSE_REMINDERS = "pause_reminders"
    RESUME_REMINDERS = "resume_reminders"
