"""Exercises for the course."""
