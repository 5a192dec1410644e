"""Needs and intent recorded during a visit: the visit page's form and recommendations, and
`PATCH /visits/{id}`. The needs themselves (rules, summary, storage) are the customer archive's
(`anchang.customers.needs`); this package adds what only the desk knows: the visit."""
