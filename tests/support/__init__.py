"""Helpers shared by test suites: real worker processes and API Gateway v2 events."""
