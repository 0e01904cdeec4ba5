"""Text in, clean text out: HTML extraction, boilerplate removal, cleaning options and sentence splitting.

One path for training, serving and batch scoring (:func:`newsdesk.train.text.cleaning.clean_body_report`).
"""
