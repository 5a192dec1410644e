"""Anchang (案场): sales-site reception, deals and property service desk."""
