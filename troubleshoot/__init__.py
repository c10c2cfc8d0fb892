"""The SSO troubleshooting console: dry runs of the sign-in checks, captured
refusals, set-up values and a health panel per site (issue 15).
"""
