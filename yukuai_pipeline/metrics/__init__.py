"""Targets, counting, progress and pace, platform activity, and when the day's figures are doubtful."""
