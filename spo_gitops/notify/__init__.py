"""Telling the people who need to know: messages from the catalog, sent once per recipient.

:mod:`~spo_gitops.notify.messages` works out what each party must hear (pure): the impact of a
merged change, breaches and new improvement plans, reviews and actions falling due; recipients
come from the catalog's contacts, owners, SPI parties and escalation rules.
:mod:`~spo_gitops.notify.send` delivers them by e-mail (SMTP) and webhooks, and keeps a ledger of
what was sent so that a rerun does not repeat it.
"""
