"""Modules that both the Lambdas and the workers read, so nothing is typed twice.

Everything under this package imports without celery, boto3 or httpx (Lambdas bundle it).
"""
