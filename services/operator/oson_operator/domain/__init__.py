"""Domain layer: the business rules of the OSON e-money payment organization.

What belongs here: wallets and accounts, operations and their state machine, limits and
field-completeness checks (rules section XIV, §14.1), idempotency of client requests, the
operational day (00:00-23:59:59 Asia/Almaty, §12.1.2), the content of event records
(start, user, record id, end, result: §14.1(11)) and the reports built from them.

What does not belong here: HTTP (``oson_operator.api``), SQL and sessions
(``oson_operator.storage``), configuration (``oson_operator.settings``). Code in this package
takes and returns plain typed values so that it can be tested without a server or a database.

The skeleton has no domain rules yet; the first ones arrive with the operations model.
"""
