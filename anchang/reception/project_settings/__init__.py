"""项目设置: the rules a site manager sets for the project (product.md §6 of issue 11).

Protection, pool, follow-up, deal and registration rules, the thank-you text and the VIP checklists,
edited on one page and over the API, each change kept in history with who made it.
"""
